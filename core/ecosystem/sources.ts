import * as z from 'zod';

/**
 * The sources the ecosystem's source agent ingests, and what each needs in its `scope`. Checked before a run
 * starts, so a scope the agent would refuse is a 400 naming the field instead of a failed run.
 */
export const SOURCES = ['github', 'jira', 'confluence', 'swagger'] as const;
export type Source = (typeof SOURCES)[number];

const text = (field: string, max = 512) =>
  z.string({ error: (issue) => (issue.input === undefined ? `${field} is required` : `${field} must be a string`) }).trim().min(1, `${field} must not be empty`).max(max, `${field} is at most ${max} characters`);
const since = z.iso.datetime({ offset: true, error: 'since must be an ISO 8601 date-time with a time zone, e.g. 2026-01-01T00:00:00Z' }).optional();
const list = (field: string, max: number) => z.array(text(`${field} entries`), { error: `${field} must be an array of strings` }).max(max, `${field} has at most ${max} entries`).optional();

/** Per source, the scope's fields. Strict: a misspelt field is named rather than ignored. */
export const SCOPE_SCHEMAS = {
  github: z.strictObject({
    repo: text('repo', 200).regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'repo must be owner/name, e.g. acme/payments'),
    ref: text('ref', 255).optional(),
    paths: list('paths', 100),
    include: z.array(z.enum(['code', 'docs', 'issues', 'pull_requests'], { error: 'include entries are code, docs, issues or pull_requests' })).min(1).optional(),
    since,
  }),
  jira: z.strictObject({
    project: text('project', 32).regex(/^[A-Z][A-Z0-9_]+$/, 'project must be a Jira project key: capital letters, digits and _, starting with a letter (e.g. PAY)'),
    jql: text('jql', 2000).optional(),
    since,
  }),
  confluence: z.strictObject({
    space: text('space', 64).regex(/^~?[A-Za-z0-9_]+$/, 'space must be a Confluence space key (letters, digits, _; ~ for a personal space)'),
    page_ids: list('page_ids', 500),
    since,
  }),
  swagger: z.strictObject({
    url: z.url({ protocol: /^https?$/, error: 'url must be an http(s) URL of an OpenAPI or Swagger document' }),
  }),
} as const satisfies Record<Source, z.ZodType>;

export const SourceField = z.enum(SOURCES, { error: (issue) => `source must be one of ${SOURCES.join(', ')}${issue.input === undefined ? '' : `, not ${JSON.stringify(issue.input)}`}` });
export const ScopeField = z.record(z.string(), z.unknown(), { error: 'scope must be an object' });

/**
 * `{source, scope, ...fields}` with the scope checked against its source's schema (problems at `scope.<field>`)
 * and replaced by what that schema read (strings trimmed).
 */
export function withCheckedScope<T extends { source: Source; scope: Record<string, unknown> }>(schema: z.ZodType<T>) {
  return schema.transform((request, context) => {
    const parsed = SCOPE_SCHEMAS[request.source].safeParse(request.scope);
    if (parsed.success) return { ...request, scope: parsed.data as Record<string, unknown> };
    for (const issue of parsed.error.issues) context.addIssue({ code: 'custom', path: ['scope', ...issue.path.map(String)], message: issue.message });
    return z.NEVER;
  });
}

/** One source to ingest: which, and what of it. */
export const SourceRequestSchema = withCheckedScope(z.strictObject({ source: SourceField, scope: ScopeField }));
export type SourceRequest = z.output<typeof SourceRequestSchema>;

/** The ingestion workflow's parameters for a set of sources: one list of scopes per source (null when not asked for). */
export function ingestionParameters(sources: readonly SourceRequest[], correlationId: string, analyze: boolean): Record<string, unknown> {
  const parameters: Record<string, unknown> = { correlation_id: correlationId, analyze, requested_sources: [...new Set(sources.map((request) => request.source))] };
  for (const request of sources) {
    const scopes = (parameters[request.source] as unknown[] | undefined) ?? [];
    parameters[request.source] = [...scopes, request.scope];
  }
  return parameters;
}
