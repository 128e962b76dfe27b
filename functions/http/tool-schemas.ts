import * as z from 'zod';
import { SERVICE_NAME_PATTERN } from '../../core/registry/registration.ts';
import { TenantFilter } from './workflow-schemas.ts';

/** Request and response shapes of `GET /tools` (issue 17): workflows and services' operations as tools for agents. */

export const TOOL_KINDS = ['workflow', 'service_operation'] as const;

export const ListToolsQuery = z.object({
  service: z
    .string({ error: 'service must be a string' })
    .min(1, 'service must not be empty')
    .max(128, 'service must be at most 128 characters')
    .regex(SERVICE_NAME_PATTERN, "service must start with a letter or digit and contain only letters, digits, '_', '-' or '.'")
    .optional().describe("Only this service's operations (workflows are left out)"),
  tag: z.string().min(1, 'tag must not be empty').max(64, 'tag must be at most 64 characters').optional().describe("Only tools with this tag: a workflow's tags, an operation's tags in its service's document"),
  kind: z.enum(TOOL_KINDS, { error: `kind must be one of ${TOOL_KINDS.join(', ')}` }).optional(),
  tenant: TenantFilter,
});

const InputSchema = z
  .record(z.string(), z.unknown())
  .describe('A JSON Schema (draft 2020-12) of the tool\'s input, standing alone: references resolved, or into its own $defs where a schema reaches itself');

const Common = {
  name: z.string().describe("Unique in the listing; letters, digits, '_', '-' and '.' only, at most 128 characters"),
  title: z.string(),
  description: z.string(),
  input_schema: InputSchema,
  tags: z.array(z.string()),
};

const WorkflowTool = z.object({
  ...Common,
  kind: z.literal('workflow'),
  workflow_id: z.string(),
  workflow_version: z.number().int(),
});

const ServiceOperationTool = z.object({
  ...Common,
  kind: z.literal('service_operation'),
  service: z.string(),
  method: z.string().describe('Upper case'),
  path: z.string().describe("The operation's path in its document, appended to the instance's URL"),
  operation_id: z.string().nullable(),
  body_media_type: z.string().optional().describe('The media type the input\'s `body` is sent as, when the operation takes one'),
  deprecated: z.literal(true).optional(),
});

export const ToolListResponse = z.object({
  generated_at: z.string(),
  tools: z.array(z.discriminatedUnion('kind', [WorkflowTool, ServiceOperationTool])).describe('Workflows first (newest first), then services by name, each in its document\'s order'),
  notes: z
    .array(z.object({ service: z.string().optional(), source_url: z.string().optional(), reason: z.string() }))
    .describe('Why a service has no tools here (its document could not be read or used), or why workflows are missing'),
  counts: z.object({
    tools: z.number().int(),
    workflows: z.number().int(),
    service_operations: z.number().int(),
    services_read: z.number().int().describe('Services whose document gave tools'),
    services_unreadable: z.number().int(),
  }),
});

/** `POST /tools/{tool_name}/call`: one service operation, called as its tool describes it. */
export const CallToolParams = z.object({
  tool_name: z
    .string()
    .min(1, 'tool_name must not be empty')
    .max(128, 'tool_name must be at most 128 characters')
    .regex(/^[A-Za-z0-9_.-]+$/, "tool_name must contain only letters, digits, '_', '-' and '.' (a name GET /tools gave)"),
});

export const CallToolBody = z.object({
  arguments: z
    .record(z.string(), z.unknown(), { error: 'arguments must be an object' })
    .default({})
    .describe("The tool's input as its input_schema describes it: `path`, `query` and `header` objects (one property per parameter) and `body`"),
});

export const CallToolResponse = z.object({
  tool: z.string(),
  service: z.string(),
  method: z.string(),
  path: z.string().describe('The path called, parameters filled in (without the query)'),
  status: z.number().int().describe("The service's HTTP status (2xx: a 4xx it answers is passed on as this API's own status, as the proxies do; a 5xx, no answer or no healthy instance is 502, 503 or 504)"),
  body: z.unknown().describe("The service's answer: parsed JSON when it says JSON, text otherwise"),
  attempts: z.number().int().describe('Calls made (an idempotent call is tried again after a transient failure)'),
});
