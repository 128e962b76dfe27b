import * as z from 'zod';
import { ServiceNameSchema } from '../../core/registry/registration.ts';

/** Request and response shapes of `POST /registry/poll-openapi`. */

export const PollOpenApiQuery = z.object({
  name: ServiceNameSchema.optional().describe('Poll this service only; without it, every registered service'),
});

const Operation = z.object({ method: z.string(), path: z.string(), operation_id: z.string().optional(), summary: z.string().optional(), digest: z.string() });

export const PollOpenApiResponse = z.object({
  polled_at: z.string(),
  services: z.array(
    z.object({
      name: z.string(),
      status: z.enum(['first_snapshot', 'unchanged', 'drift', 'skipped', 'error']),
      instance_id: z.string().optional().describe('The instance whose document was read (healthy ones first)'),
      source_url: z.string().optional(),
      digest: z.string().optional().describe("The document's digest (sha256 of its canonical JSON)"),
      previous_digest: z.string().optional(),
      operations: z.number().int().optional(),
      counts: z.object({ added: z.number().int(), removed: z.number().int(), changed: z.number().int() }).optional(),
      diff: z
        .object({
          added: z.array(Operation),
          removed: z.array(Operation),
          changed: z.array(z.object({ method: z.string(), path: z.string(), operation_id: z.string().optional(), previous_digest: z.string(), digest: z.string() })),
        })
        .optional(),
      document_changed: z.boolean().optional().describe('The document changed outside its operations'),
      event_id: z.string().optional().describe('The "Service API Drift Detected" event'),
      reason: z.string().optional(),
    }),
  ),
  counts: z.object({ first_snapshot: z.number().int(), unchanged: z.number().int(), drift: z.number().int(), skipped: z.number().int(), error: z.number().int() }),
});
