/**
 * Values the API accepts for some filters, offered as option choices (and completions). They are copied
 * rather than imported because their homes load zod, which would add a fifth of a second to every command;
 * test/cli/vocabulary.test.ts fails as soon as a copy differs from its source.
 */

/** core/workflow/definition.ts WORKFLOW_STATUSES. */
export const WORKFLOW_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;

/** functions/http/registry-schemas.ts ListServicesQuery `status`. */
export const HEALTH_STATUSES = ['healthy', 'degraded', 'unhealthy', 'unknown'] as const;
