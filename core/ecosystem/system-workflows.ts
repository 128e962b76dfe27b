import { DEFAULT_TENANT } from '../auth/model.ts';
import { WorkflowDefinitionSchema, type WorkflowDefinition, type WorkflowDefinitionInput } from '../workflow/definition.ts';
import { SOURCES } from './sources.ts';

/**
 * The workflows the platform runs for its own routes: ingestion (`POST /ingest`, `POST /workflows/run`) and
 * the jobs (`/jobs/*`). They are ordinary workflows, stored per tenant under a fixed id (`system-<name>`, or
 * `system-<name>--<tenant>`), so their runs are ordinary runs: status, progress, retry, traces, events. A
 * route makes sure its workflow exists and matches this definition before it starts a run
 * (WorkflowService.ensureWorkflow): an edited or deleted system workflow comes back as defined here.
 */

export const SYSTEM_ACTOR = 'system';

/** The ecosystem services, by the registry name they are found under (else at `<NAME>_URL`). */
export const EcosystemService = {
  sourceAgent: 'source_agent',
  consistencyEngine: 'consistency_engine',
  reporting: 'reporting',
  docStore: 'doc_store',
  notification: 'notification',
  secureAnalyzer: 'secure_analyzer',
  logCollector: 'log_collector',
} as const;

/** How long one source's ingestion may take per scope before it is retried (the agent may page through a lot). */
const INGEST_TIMEOUT_SECONDS = 300;

const ingestAction = (source: (typeof SOURCES)[number]) => ({
  action_id: `ingest_${source}`,
  action_type: 'foreach' as const,
  name: `Ingest ${source}`,
  description: `Asks the source agent to ingest each ${source} scope given (skipped when none is)`,
  condition: { ref: `{{${source}}}`, is_null: false },
  timeout_seconds: INGEST_TIMEOUT_SECONDS * 4,
  config: {
    items: `{{${source}}}`,
    max_concurrency: 10,
    action: {
      action_type: 'service_call' as const,
      config: {
        service: EcosystemService.sourceAgent,
        endpoint: `/ingest/${source}`,
        method: 'POST' as const,
        parameters: { source, scope: '{{item}}', correlation_id: '{{correlation_id}}' },
      },
    },
  },
});

const DEFINITIONS = {
  ingestion: {
    name: 'Ecosystem ingestion',
    description:
      'Ingests every requested source through the source agent, each source in parallel, then (when analyze is true) asks the consistency engine to analyse what was ingested. Started by POST /ingest and POST /workflows/run.',
    tags: ['system', 'ingestion'],
    parameters: [
      { name: 'correlation_id', type: 'string', required: true, description: 'Ties the ingestion and its analysis together across services' },
      { name: 'requested_sources', type: 'array', required: true, description: 'The sources asked for, each once' },
      ...SOURCES.map((source) => ({ name: source, type: 'array' as const, required: false, description: `The ${source} scopes to ingest` })),
      { name: 'analyze', type: 'boolean', required: false, default: false, description: 'Run the consistency analysis once every source is ingested' },
    ],
    actions: [
      ...SOURCES.map(ingestAction),
      {
        action_id: 'consistency_analysis',
        action_type: 'service_call',
        name: 'Consistency analysis',
        description: 'Starts after every ingestion finished; skipped unless analyze is true',
        depends_on: SOURCES.map((source) => `ingest_${source}`),
        condition: { ref: '{{analyze}}', equals: true },
        // Sources not asked for are skipped: the analysis runs on what was ingested.
        on_skipped_input: 'run',
        config: {
          service: EcosystemService.consistencyEngine,
          endpoint: '/analyze',
          method: 'POST',
          parameters: {
            correlation_id: '{{correlation_id}}',
            sources: '{{requested_sources}}',
            ingested: Object.fromEntries(SOURCES.map((source) => [source, `{{ingest_${source}.response}}`])),
          },
        },
      },
    ],
  },
  recalc_quality: {
    name: 'Job: recalculate quality',
    description: "Asks the reporting service to recalculate its quality scores. Started by POST /jobs/recalc-quality and by the job's schedule.",
    tags: ['system', 'job'],
    parameters: [
      { name: 'correlation_id', type: 'string', required: true },
      { name: 'requested_by', type: 'string', required: true, description: 'Who started it: a caller, or schedule' },
      { name: 'scope', type: 'object', required: false, description: 'What to recalculate (default: everything), passed on as it is' },
    ],
    actions: [
      {
        action_id: 'recalculate',
        action_type: 'service_call',
        name: 'Recalculate quality',
        timeout_seconds: 600,
        config: {
          service: EcosystemService.reporting,
          endpoint: '/quality/recalculate',
          method: 'POST',
          parameters: { correlation_id: '{{correlation_id}}', requested_by: '{{requested_by}}', scope: '{{scope}}' },
        },
      },
    ],
  },
  notify_consolidation: {
    name: 'Job: consolidation notice',
    description: "Sends a consolidation notice through the notification service. Started by POST /jobs/notify-consolidation and by the job's schedule.",
    tags: ['system', 'job'],
    parameters: [
      { name: 'correlation_id', type: 'string', required: true },
      { name: 'requested_by', type: 'string', required: true },
      { name: 'message', type: 'string', required: false, default: 'Documents are ready for consolidation review.' },
      { name: 'recipients', type: 'array', required: false, description: 'Who to notify (default: the notification service decides)' },
    ],
    actions: [
      {
        action_id: 'notify',
        action_type: 'service_call',
        name: 'Send consolidation notice',
        config: {
          service: EcosystemService.notification,
          endpoint: '/notify',
          method: 'POST',
          parameters: {
            kind: 'consolidation',
            title: 'Consolidation',
            message: '{{message}}',
            recipients: '{{recipients}}',
            correlation_id: '{{correlation_id}}',
            requested_by: '{{requested_by}}',
          },
        },
      },
    ],
  },
} as const satisfies Record<string, WorkflowDefinitionInput>;

export type SystemWorkflowName = keyof typeof DEFINITIONS;

const parsed = new Map<SystemWorkflowName, WorkflowDefinition>();

/** A system workflow's definition, parsed (defaults applied) once. Tests check each one validates and compiles. */
export function systemWorkflowDefinition(name: SystemWorkflowName): WorkflowDefinition {
  let definition = parsed.get(name);
  if (!definition) {
    definition = WorkflowDefinitionSchema.parse(DEFINITIONS[name]);
    parsed.set(name, definition);
  }
  return definition;
}

export const SYSTEM_WORKFLOW_NAMES = Object.keys(DEFINITIONS) as SystemWorkflowName[];

/** `system-ingestion` for the default tenant, `system-ingestion--acme` for tenant acme (tenants are [a-z0-9_-]). */
export function systemWorkflowId(name: SystemWorkflowName, tenant: string = DEFAULT_TENANT): string {
  const base = `system-${name.replaceAll('_', '-')}`;
  return tenant === DEFAULT_TENANT ? base : `${base}--${tenant}`;
}
