import { inScope, type TenantScope } from '../auth/model.ts';
import type { ApiDocumentSource, Clock, ServiceRegistry, WorkflowStore } from '../ports.ts';
import { mapConcurrently } from '../registry/concurrency.ts';
import { groupServices, isExpired, type ServiceInstance } from '../registry/model.ts';
import type { Action } from '../workflow/definition.ts';
import type { Workflow } from '../workflow/model.ts';
import { serviceOperationTools, type ServiceOperationTool } from './openapi-tools.ts';
import { workflowTools, type WorkflowTool } from './workflow-tools.ts';

/**
 * `GET /tools` (issue 17): what an agent may call. Every active workflow the caller's tenant owns, as a tool
 * whose input is its parameters (workflow-tools.ts), and every operation of every registered service's API
 * document (openapi-tools.ts). A service whose document cannot be read is a note, never a failed listing.
 *
 * Documents are read through the same port as the OpenAPI poller, from one live instance (healthy ones first),
 * and what they give is kept a while per service, keyed by the document's address and the digest the registry
 * stored at the last poll: a poll that finds a new document makes the next listing read it again; without
 * one, kept tools are read again after `cacheTtlMs` (a failure after `failureTtlMs`). Concurrent listings
 * share one read. A listing starts no read it could not finish within its budget: it answers what it kept of
 * those services' documents, however old, or notes them.
 */

export type Tool = WorkflowTool | ServiceOperationTool;
export type ToolKind = Tool['kind'];

export interface ToolFilters {
  /** Only this service's operations (and no workflows). */
  readonly service?: string;
  /** Only tools with this tag (a workflow's tags, an operation's tags). */
  readonly tag?: string;
  readonly kind?: ToolKind;
}

/** Why a service has no tools in a listing (or why workflows are missing). */
export interface ToolNote {
  readonly service?: string;
  readonly source_url?: string;
  readonly reason: string;
}

export interface ToolListing {
  readonly generated_at: string;
  readonly tools: readonly Tool[];
  readonly notes: readonly ToolNote[];
  readonly counts: {
    readonly tools: number;
    readonly workflows: number;
    readonly service_operations: number;
    /** Services whose document gave tools (from the cache or read now). */
    readonly services_read: number;
    readonly services_unreadable: number;
  };
}

export interface ToolCatalog {
  list(filters: ToolFilters, scope: TenantScope): Promise<ToolListing>;
}

export interface ToolCatalogDeps {
  readonly registry: Pick<ServiceRegistry, 'list' | 'getApiSnapshot'>;
  readonly documents: ApiDocumentSource;
  readonly workflows: Pick<WorkflowStore, 'list' | 'get'>;
  readonly clock: Clock;
  /** How long a service's tools are kept while the registry's digest of its document stays the same (60 s). */
  readonly cacheTtlMs?: number;
  /** How long a failed read is kept before it is tried again (15 s), so that a service that is down costs one wait. */
  readonly failureTtlMs?: number;
  /** The listing's time budget (8 s, within the API's 10 s) and the document source's timeout per read (TOOL_DOCUMENT_TIMEOUT_MS). */
  readonly budgetMs?: number;
  readonly documentTimeoutMs?: number;
}

/**
 * What composition roots give the document source's timeout: shorter than the poller's 5 s, because one
 * listing reads many documents within the API's 10 s function timeout.
 */
export const TOOL_DOCUMENT_TIMEOUT_MS = 3000;
/** The newest active workflows listed; the rest are noted. */
export const MAX_WORKFLOW_TOOLS = 1000;
const READ_CONCURRENCY = 16;
const WORKFLOW_PAGE = 100;
/** Services (and workflows) whose conversions are kept: more than any registry this serves. */
const MAX_CACHED = 5000;

type WorkflowFields = Pick<Workflow, 'workflow_id' | 'name' | 'description' | 'tags' | 'version' | 'parameters' | 'strict_parameters' | 'actions' | 'status' | 'tenant'>;
/** What is kept of a workflow: its actions only counted (a tool says how many), not held (they can be 350 KB). */
type KeptWorkflow = Omit<WorkflowFields, 'actions'> & { readonly action_count: number };
type ServiceOutcome = { readonly tools: readonly ServiceOperationTool[] } | { readonly note: ToolNote };
interface CachedService {
  readonly key: string;
  expiresAt: number;
  readonly outcome: Promise<ServiceOutcome>;
}

export function createToolCatalog(deps: ToolCatalogDeps): ToolCatalog {
  const { registry, documents, workflows, clock } = deps;
  const cacheTtlMs = deps.cacheTtlMs ?? 60_000;
  const failureTtlMs = deps.failureTtlMs ?? 15_000;
  const budgetMs = deps.budgetMs ?? 8_000;
  const documentTimeoutMs = deps.documentTimeoutMs ?? TOOL_DOCUMENT_TIMEOUT_MS;
  const services = new Map<string, CachedService>();
  const workflowCache = new Map<string, { revision: number; workflow: KeptWorkflow }>();
  const nowMs = () => Date.parse(clock.now());

  const read = (name: string, sourceUrl: string): Promise<ServiceOutcome> =>
    documents.fetchDocument(sourceUrl).then(
      (document): ServiceOutcome => {
        const outcome = serviceOperationTools(name, document);
        return outcome.ok ? { tools: outcome.tools } : { note: { service: name, source_url: sourceUrl, reason: `the document is not usable: ${outcome.reason}` } };
      },
      (error: unknown): ServiceOutcome => ({ note: { service: name, source_url: sourceUrl, reason: error instanceof Error ? error.message : String(error) } }),
    );

  const serviceTools = async (name: string, instances: readonly ServiceInstance[], latestStart: number): Promise<ServiceOutcome | undefined> => {
    const instance = preferredInstance(instances);
    if (instance === undefined) return undefined;
    const sourceUrl = `${instance.url}${instance.openapi_path}`;
    // The digest is what tells a changed document; when the registry cannot say, the time-to-live alone does.
    const digest = await registry.getApiSnapshot(name).then((snapshot) => snapshot?.digest ?? 'not polled', () => 'unknown');
    const key = `${sourceUrl}\n${digest}`;
    const now = nowMs();
    const cached = services.get(name);
    if (cached !== undefined && cached.key === key && cached.expiresAt > now) return cached.outcome;
    if (now > latestStart) {
      // Out of time: what was kept of the same document, even past its time-to-live, beats no tools at all.
      if (cached !== undefined && cached.key === key) return cached.outcome;
      return { note: { service: name, source_url: sourceUrl, reason: "not read: the listing's time budget ran out before it (a later listing reads it)" } };
    }
    const entry: CachedService = { key, expiresAt: now + cacheTtlMs, outcome: read(name, sourceUrl) };
    remember(services, name, entry);
    void entry.outcome.then((outcome) => {
      if ('note' in outcome) entry.expiresAt = Math.min(entry.expiresAt, nowMs() + failureTtlMs);
    });
    return entry.outcome;
  };

  const listServices = async (filters: ToolFilters): Promise<{ tools: ServiceOperationTool[]; notes: ToolNote[]; read: number }> => {
    const startedAt = nowMs();
    const now = clock.now();
    const live = (await registry.list()).filter((instance) => !isExpired(instance, now) && (filters.service === undefined || instance.name === filters.service));
    const latestStart = startedAt + budgetMs - documentTimeoutMs;
    const outcomes = await mapConcurrently(groupServices(live), READ_CONCURRENCY, (service) => serviceTools(service.name, service.instances, latestStart));
    const tools: ServiceOperationTool[] = [];
    const notes: ToolNote[] = [];
    let read = 0;
    for (const outcome of outcomes) {
      if (outcome === undefined) continue;
      if ('note' in outcome) notes.push(outcome.note);
      else {
        read++;
        tools.push(...outcome.tools);
      }
    }
    return { tools, notes, read };
  };

  const listWorkflows = async (scope: TenantScope): Promise<{ tools: WorkflowTool[]; notes: ToolNote[] }> => {
    const summaries: { workflow_id: string; revision: number }[] = [];
    let cursor: string | undefined;
    do {
      const page = await workflows.list({ tenant: scope.tenant, status: 'active', limit: WORKFLOW_PAGE, ...(cursor === undefined ? {} : { cursor }) });
      summaries.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined && summaries.length < MAX_WORKFLOW_TOOLS);
    const more = cursor !== undefined;
    const listed = summaries.slice(0, MAX_WORKFLOW_TOOLS);
    // Summaries lack parameters: each workflow is read once per revision, then kept.
    const loaded = await mapConcurrently(listed, READ_CONCURRENCY, async ({ workflow_id, revision }) => {
      const kept = workflowCache.get(workflow_id);
      if (kept !== undefined && kept.revision === revision) return kept.workflow;
      const workflow = await workflows.get(workflow_id);
      if (workflow === undefined) return undefined;
      const fields = keep(workflow);
      remember(workflowCache, workflow_id, { revision: workflow.revision, workflow: fields });
      return fields;
    });
    const active = loaded
      .filter((workflow): workflow is KeptWorkflow => workflow !== undefined && workflow.status === 'active' && inScope(scope, workflow.tenant))
      // workflowTools reads only how many actions there are: an array of that length, with nothing in it, says so.
      .map(({ action_count, ...fields }): WorkflowFields => ({ ...fields, actions: new Array<Action>(action_count) }));
    const notes = more || summaries.length > MAX_WORKFLOW_TOOLS ? [{ reason: `only the ${MAX_WORKFLOW_TOOLS} newest active workflows are listed` }] : [];
    return { tools: workflowTools(active), notes };
  };

  return {
    async list(filters, scope) {
      const generated_at = clock.now();
      const wantWorkflows = filters.service === undefined && filters.kind !== 'service_operation';
      const wantServices = filters.kind !== 'workflow';
      const [fromWorkflows, fromServices] = await Promise.all([
        wantWorkflows ? listWorkflows(scope) : { tools: [], notes: [] },
        wantServices ? listServices(filters) : { tools: [], notes: [], read: 0 },
      ]);
      // Tags filter after naming, so that a tool's name never depends on the filter.
      const tagged = <T extends Tool>(tools: readonly T[]) => (filters.tag === undefined ? [...tools] : tools.filter((tool) => tool.tags.includes(filters.tag!)));
      const workflowList = tagged(fromWorkflows.tools);
      const operationList = tagged(fromServices.tools);
      return {
        generated_at,
        tools: [...workflowList, ...operationList],
        notes: [...fromWorkflows.notes, ...fromServices.notes],
        counts: {
          tools: workflowList.length + operationList.length,
          workflows: workflowList.length,
          service_operations: operationList.length,
          services_read: fromServices.read,
          services_unreadable: fromServices.notes.length,
        },
      };
    },
  };
}

/** Healthy instances first, then degraded, unchecked, unhealthy; an open circuit last (as the poller picks). */
function preferredInstance(instances: readonly ServiceInstance[]): (ServiceInstance & { openapi_path: string }) | undefined {
  const rank = { healthy: 0, degraded: 1, unknown: 2, unhealthy: 3 } as const;
  const score = (instance: ServiceInstance) => rank[instance.health.status] + (instance.circuit.state === 'open' ? 10 : 0);
  return instances
    .filter((instance): instance is ServiceInstance & { openapi_path: string } => instance.openapi_path !== undefined)
    .sort((a, b) => score(a) - score(b) || (a.instance_id < b.instance_id ? -1 : 1))[0];
}

function keep(workflow: Workflow): KeptWorkflow {
  const { workflow_id, name, description, tags, version, parameters, strict_parameters, actions, status, tenant } = workflow;
  return { workflow_id, name, description, tags, version, parameters, strict_parameters, action_count: actions.length, status, tenant };
}

/** Sets `key` in a bounded map: the oldest entry goes when it is full. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_CACHED) map.delete(map.keys().next().value!);
}
