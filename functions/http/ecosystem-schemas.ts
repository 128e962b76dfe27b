import * as z from 'zod';
import { JsonValue } from '../../core/workflow/definition.ts';
import { EXECUTION_STATUSES } from '../../core/execution/model.ts';
import { ScopeField, SOURCES, SourceField, SourceRequestSchema, withCheckedScope } from '../../core/ecosystem/sources.ts';
import { JOB_NAMES } from '../../core/ecosystem/jobs.ts';

/** Ingestion, the ecosystem proxies, the demo bundle and the jobs: request and response schemas. */

export const CorrelationId = z
  .string({ error: 'correlation_id must be a string' })
  .min(1, 'correlation_id must not be empty')
  .max(128, 'correlation_id is at most 128 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'correlation_id may contain letters, digits and . _ : - only')
  .describe('Ties the work together across services; generated when absent');

export const IngestBody = withCheckedScope(z.strictObject({ source: SourceField, scope: ScopeField, correlation_id: CorrelationId.optional() })).describe(
  `One source to ingest; scope fields per source: github {repo, ref?, paths?, include?, since?}, jira {project, jql?, since?}, confluence {space, page_ids?, since?}, swagger {url}`,
);

export const RunIngestionBody = z.strictObject({
  sources: z.array(SourceRequestSchema, { error: 'sources must be an array of {source, scope}' }).min(1, 'sources must name at least one source').max(20, 'sources has at most 20 entries'),
  correlation_id: CorrelationId.optional(),
  analyze: z.boolean({ error: 'analyze must be true or false' }).default(true).describe('Run the consistency analysis once every source is ingested'),
});

export const StartedRunResponse = z.object({
  execution_id: z.string(),
  workflow_id: z.string(),
  status: z.enum(EXECUTION_STATUSES),
  trace_id: z.string(),
  correlation_id: z.string(),
  sources: z.array(z.enum(SOURCES)).optional().describe('The sources the run ingests (ingestion only)'),
  job: z.string().optional().describe('The job the run is (jobs only)'),
  status_url: z.string().describe('Where the run shows its status and per-source progress'),
});

const Repo = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'repo must be owner/name');
const Filters = z.record(z.string(), JsonValue).optional();
/** `kind` and its own fields; everything but `kind` is the body reporting receives at POST /reports/{kind}. */
export const ReportRequestBody = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('generate'), report_type: z.string().min(1).max(100).optional(), since: z.iso.datetime({ offset: true }).optional(), until: z.iso.datetime({ offset: true }).optional(), filters: Filters, format: z.enum(['json', 'markdown', 'html']).optional() }),
    z.strictObject({ kind: z.literal('life_of_ticket'), ticket_id: z.string({ error: 'ticket_id is required for life_of_ticket' }).min(1).max(200), include_events: z.boolean().optional() }),
    z.strictObject({ kind: z.literal('pr_confidence'), repo: Repo, pr_number: z.number({ error: 'pr_number is required for pr_confidence' }).int().min(1), ticket_id: z.string().min(1).max(200).optional() }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? 'kind must be one of generate, life_of_ticket, pr_confidence' : undefined) },
);

export const SummarizationBody = z.strictObject({
  content: z.string({ error: 'content is required: the text to summarize' }).min(1, 'content must not be empty').max(512 * 1024, 'content is at most 512 KiB'),
  policy: z.string().min(1).max(200).optional().describe("The secure analyzer's policy to check the content against (its default when absent)"),
  max_length: z.number().int().min(16).max(100_000).optional(),
  format: z.enum(['text', 'bullets', 'markdown']).optional(),
  metadata: z.record(z.string(), JsonValue).optional(),
});

export const DocstoreSaveBody = z.strictObject({
  content: z.string({ error: 'content is required: the document text' }).min(1, 'content must not be empty').max(768 * 1024, 'content is at most 768 KiB'),
  title: z.string().min(1).max(500).optional(),
  id: z.string().min(1).max(200).regex(/^[A-Za-z0-9._:-]+$/, 'id may contain letters, digits and . _ : - only').optional().describe('Save under this id (the doc store assigns one when absent)'),
  content_type: z.string().min(1).max(100).optional(),
  metadata: z.record(z.string(), JsonValue).optional(),
  correlation_id: CorrelationId.optional(),
});

export const ProxyResponse = z.object({
  service: z.string().describe('The ecosystem service that answered'),
  status_code: z.number().int().describe("The service's HTTP status"),
  response: JsonValue,
});

export const DemoBody = z.strictObject({
  format: z.literal('json', { error: 'format must be json (the only format the bundle is built in)' }).default('json'),
  log_limit: z.number({ error: 'log_limit must be a whole number' }).int('log_limit must be a whole number').min(1, 'log_limit must be at least 1').max(1000, 'log_limit must be at most 1000').default(50),
});

const Counts = z.record(z.string(), z.number().int().min(0));
/** What reporting answers at GET /reports/summary (checked: a service answering another shape is a 502). */
export const ReportSummary = z.object({ total: z.number().int().min(0), by_severity: Counts });
/** What reporting or the log collector answers at GET /logs/analysis. */
export const LogAnalysis = z.object({
  overview: z.object({ count: z.number().int().min(0), by_level: Counts }),
  sample: z.array(z.record(z.string(), JsonValue)),
});
export const DemoResponse = z.object({ summary: ReportSummary, log_analysis: LogAnalysis });

export const JobParams = z.object({});

export const RecalcQualityBody = z.strictObject({
  correlation_id: CorrelationId.optional(),
  scope: z.record(z.string(), JsonValue).optional().describe('What to recalculate (default: everything), passed on to reporting'),
});

export const NotifyConsolidationBody = z.strictObject({
  correlation_id: CorrelationId.optional(),
  message: z.string().min(1).max(4000).optional(),
  recipients: z.array(z.string().min(1).max(320)).min(1).max(100).optional(),
});

const LastRun = z.object({ execution_id: z.string(), status: z.enum(EXECUTION_STATUSES), started_by: z.string(), created_at: z.string(), ended_at: z.string().nullable() });
export const JobListResponse = z.object({
  jobs: z.array(
    z.object({
      name: z.enum(JOB_NAMES as [string, ...string[]]),
      description: z.string(),
      workflow_id: z.string(),
      schedule: z.object({ expression: z.string().nullable(), timezone: z.literal('UTC'), enabled: z.boolean() }),
      next_run: z.string().nullable(),
      last_run: LastRun.nullable(),
      start: z.string().describe('POST here to start it now'),
    }),
  ),
});
