import { describe, expect, it } from 'vitest';
import { createToolCatalog, MAX_WORKFLOW_TOOLS, type ToolCatalogDeps } from '../../../../core/ai/tool-catalog.ts';
import type { ApiDocumentSource } from '../../../../core/ports.ts';
import type { ApiSnapshot } from '../../../../core/registry/drift.ts';
import { CLOSED_CIRCUIT, INITIAL_HEALTH, type ServiceInstance } from '../../../../core/registry/model.ts';
import { createWorkflowService } from '../../../../core/workflow/service.ts';
import { parseDefinition } from '../support/definitions.ts';
import { fixedClock, InMemoryWorkflowStore, sequentialIds } from '../support/in-memory-store.ts';

const START = '2026-12-01T00:00:00.000Z';

function instance(name: string, overrides: Partial<ServiceInstance> = {}): ServiceInstance {
  return { name, instance_id: `${name}-1`, url: `http://${name}.test`, health_path: '/health', openapi_path: '/openapi.json', tags: [], metadata: {}, registered_at: START, updated_at: START, health: INITIAL_HEALTH, circuit: CLOSED_CIRCUIT, ...overrides };
}

const documentWith = (...operationIds: string[]) => ({
  openapi: '3.1.0',
  info: { title: 't', version: '1' },
  paths: Object.fromEntries(operationIds.map((id) => [`/${id}`, { post: { operationId: id, tags: id.startsWith('admin') ? ['admin'] : ['public'] } }])),
});

/** A registry, document source and workflow store in memory, with what each was asked. */
function world() {
  const clock = fixedClock(START);
  const instances: ServiceInstance[] = [];
  const digests = new Map<string, string>();
  const served = new Map<string, unknown>();
  const fetched: string[] = [];
  let hold: Promise<void> | undefined;
  const documents: ApiDocumentSource = {
    async fetchDocument(url) {
      fetched.push(url);
      if (hold) await hold;
      const answer = served.get(url);
      if (answer === undefined) throw new Error(`GET ${url}: connect ECONNREFUSED`);
      if (answer instanceof Error) throw answer;
      return structuredClone(answer);
    },
  };
  const store = new InMemoryWorkflowStore();
  const service = createWorkflowService({ store, clock, ids: sequentialIds() });
  const deps: ToolCatalogDeps = {
    registry: {
      list: async () => structuredClone(instances),
      getApiSnapshot: async (name) => (digests.has(name) ? ({ digest: digests.get(name) } as ApiSnapshot) : undefined),
    },
    documents,
    workflows: store,
    clock,
  };
  const workflow = (name: string, tenant: string, extra: Record<string, unknown> = {}) =>
    service.createWorkflow(parseDefinition({ name, parameters: [{ name: 'q', type: 'string', required: true }], actions: [{ action_id: 'a', action_type: 'notification', config: { message: '{{q}}' } }], ...extra }), 'tester', tenant);
  return {
    clock,
    instances,
    digests,
    served,
    fetched,
    store,
    deps,
    workflow,
    holdReads: () => {
      let release!: () => void;
      hold = new Promise((resolve) => (release = resolve));
      return () => {
        hold = undefined;
        release();
      };
    },
  };
}

describe('the tool catalog', () => {
  it("lists the scope's active workflows and every service's operations, and notes a service whose document cannot be read", async () => {
    const w = world();
    await w.workflow('Billing', 'acme', { tags: ['money'] });
    await w.workflow('Draft one', 'acme', { status: 'draft' });
    await w.workflow('Other tenant', 'globex');
    w.instances.push(instance('pets'), instance('down'), instance('nodoc', { openapi_path: undefined }));
    w.served.set('http://pets.test/openapi.json', documentWith('listPets', 'adminReset'));

    const listing = await createToolCatalog(w.deps).list({}, { tenant: 'acme' });
    expect(listing.tools.map((tool) => tool.name)).toEqual(['workflow.billing', 'pets.listPets', 'pets.adminReset']);
    expect(listing.notes).toEqual([{ service: 'down', source_url: 'http://down.test/openapi.json', reason: 'GET http://down.test/openapi.json: connect ECONNREFUSED' }]);
    expect(listing.counts).toEqual({ tools: 3, workflows: 1, service_operations: 2, services_read: 1, services_unreadable: 1 });
    expect(listing.tools[0]).toMatchObject({ kind: 'workflow', input_schema: { required: ['q'] } });
    expect(listing.tools[0]!.description).toContain('1 action)');

    // An admin without a tenant sees every tenant's active workflows.
    expect((await createToolCatalog(w.deps).list({ kind: 'workflow' }, {})).tools.map((tool) => tool.title)).toEqual(['Other tenant', 'Billing']);
  });

  it('filters by kind, service and tag without reading what the filter leaves out', async () => {
    const w = world();
    await w.workflow('Billing', 'acme', { tags: ['admin'] });
    w.instances.push(instance('pets'), instance('shop'));
    w.served.set('http://pets.test/openapi.json', documentWith('listPets', 'adminReset'));
    w.served.set('http://shop.test/openapi.json', documentWith('buy'));
    const catalog = createToolCatalog(w.deps);

    expect((await catalog.list({ kind: 'workflow' }, { tenant: 'acme' })).tools.map((tool) => tool.name)).toEqual(['workflow.billing']);
    expect(w.fetched).toEqual([]);
    expect((await catalog.list({ service: 'shop' }, { tenant: 'acme' })).tools.map((tool) => tool.name)).toEqual(['shop.buy']);
    expect(w.fetched).toEqual(['http://shop.test/openapi.json']);
    expect((await catalog.list({ tag: 'admin' }, { tenant: 'acme' })).tools.map((tool) => tool.name)).toEqual(['workflow.billing', 'pets.adminReset']);
    expect((await catalog.list({ kind: 'service_operation', tag: 'public' }, { tenant: 'acme' })).tools.map((tool) => tool.name)).toEqual(['pets.listPets', 'shop.buy']);
    expect((await catalog.list({ service: 'nobody' }, { tenant: 'acme' })).tools).toEqual([]);
  });

  it("keeps a service's tools until the registry's digest of its document changes or they grow old", async () => {
    const w = world();
    w.instances.push(instance('pets'));
    w.digests.set('pets', 'sha256:one');
    w.served.set('http://pets.test/openapi.json', documentWith('listPets'));
    const catalog = createToolCatalog({ ...w.deps, cacheTtlMs: 60_000 });

    await catalog.list({}, {});
    await catalog.list({}, {});
    expect(w.fetched).toHaveLength(1);

    // The service changed its document; until a poll records it, the kept tools stand (for at most the TTL).
    w.served.set('http://pets.test/openapi.json', documentWith('listPets', 'createPet'));
    expect((await catalog.list({}, {})).counts.service_operations).toBe(1);
    w.digests.set('pets', 'sha256:two');
    expect((await catalog.list({}, {})).counts.service_operations).toBe(2);
    expect(w.fetched).toHaveLength(2);

    w.clock.advance(61);
    await catalog.list({}, {});
    expect(w.fetched).toHaveLength(3);
    // Another instance (another address) is another document.
    w.instances.splice(0, 1, instance('pets', { url: 'http://pets-b.test' }));
    w.served.set('http://pets-b.test/openapi.json', documentWith('listPets'));
    expect((await catalog.list({}, {})).counts.service_operations).toBe(1);
    expect(w.fetched).toHaveLength(4);
  });

  it('tries a failed document again after a short while, not on every listing', async () => {
    const w = world();
    w.instances.push(instance('flaky'));
    const catalog = createToolCatalog({ ...w.deps, failureTtlMs: 15_000, cacheTtlMs: 60_000 });
    expect((await catalog.list({}, {})).counts.services_unreadable).toBe(1);
    expect((await catalog.list({}, {})).counts.services_unreadable).toBe(1);
    expect(w.fetched).toHaveLength(1);
    w.served.set('http://flaky.test/openapi.json', documentWith('ping'));
    w.clock.advance(16);
    expect((await catalog.list({}, {})).counts).toMatchObject({ service_operations: 1, services_unreadable: 0 });
    expect(w.fetched).toHaveLength(2);
  });

  it('notes a document that is not OpenAPI, and reads from a healthy instance before others', async () => {
    const w = world();
    const healthy = { ...INITIAL_HEALTH, status: 'healthy' as const };
    w.instances.push(instance('svc', { instance_id: 'a', url: 'http://a.test' }), instance('svc', { instance_id: 'b', url: 'http://b.test', health: healthy }));
    w.served.set('http://b.test/openapi.json', { hello: 'world' });
    const listing = await createToolCatalog(w.deps).list({}, {});
    expect(w.fetched).toEqual(['http://b.test/openapi.json']);
    expect(listing.notes).toEqual([{ service: 'svc', source_url: 'http://b.test/openapi.json', reason: expect.stringMatching(/^the document is not usable: not an OpenAPI 3.x or Swagger 2.0 document/) }]);
  });

  it('shares one read between concurrent listings, and starts no read past its time budget', async () => {
    const w = world();
    w.instances.push(instance('pets'));
    w.served.set('http://pets.test/openapi.json', documentWith('listPets'));
    const catalog = createToolCatalog({ ...w.deps, budgetMs: 8000, documentTimeoutMs: 3000 });
    const release = w.holdReads();
    const listings = [catalog.list({}, {}), catalog.list({}, {})];
    await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    for (const listing of await Promise.all(listings)) expect(listing.counts.service_operations).toBe(1);
    expect(w.fetched).toHaveLength(1);

    // A registry read that takes past the budget's last start (8 s - 3 s) leaves the reads for a later listing.
    const slow = world();
    slow.instances.push(instance('late'));
    slow.served.set('http://late.test/openapi.json', documentWith('x'));
    const lateCatalog = createToolCatalog({
      ...slow.deps,
      budgetMs: 8000,
      documentTimeoutMs: 3000,
      registry: { ...slow.deps.registry, getApiSnapshot: async () => (slow.clock.advance(6), undefined) },
    });
    const late = await lateCatalog.list({}, {});
    expect(late.notes).toEqual([{ service: 'late', source_url: 'http://late.test/openapi.json', reason: expect.stringContaining("time budget") }]);
    expect(slow.fetched).toEqual([]);

    // Out of time with tools kept of the same document, however old: those, rather than nothing.
    let slowRegistry = false;
    const keeping = createToolCatalog({
      ...slow.deps,
      budgetMs: 8000,
      documentTimeoutMs: 3000,
      cacheTtlMs: 60_000,
      registry: { ...slow.deps.registry, getApiSnapshot: async () => (slowRegistry ? slow.clock.advance(6) : undefined, undefined) },
    });
    expect((await keeping.list({}, {})).counts.service_operations).toBe(1);
    slow.clock.advance(120);
    slowRegistry = true;
    expect((await keeping.list({}, {})).counts).toMatchObject({ service_operations: 1, services_unreadable: 0 });
    expect(slow.fetched).toHaveLength(1);
  });

  it('reads each workflow once per revision, and never lists one that stopped being active', async () => {
    const w = world();
    const billing = await w.workflow('Billing', 'acme');
    let reads = 0;
    const counting = { list: w.store.list.bind(w.store), get: async (id: string) => (reads++, w.store.get(id)) };
    const catalog = createToolCatalog({ ...w.deps, workflows: counting });
    await catalog.list({}, { tenant: 'acme' });
    await catalog.list({}, { tenant: 'acme' });
    expect(reads).toBe(1);
    const service = createWorkflowService({ store: w.store, clock: w.clock, ids: sequentialIds('x-') });
    await service.updateWorkflow(billing.workflow_id, { description: 'Charges a customer' }, 'tester');
    expect((await catalog.list({}, { tenant: 'acme' })).tools[0]!.description).toMatch(/^Charges a customer/);
    expect(reads).toBe(2);
    await service.updateWorkflow(billing.workflow_id, { status: 'paused' }, 'tester');
    expect((await catalog.list({}, { tenant: 'acme' })).tools).toEqual([]);
  });

  it(`lists at most the ${MAX_WORKFLOW_TOOLS} newest active workflows, and says so`, async () => {
    const w = world();
    for (let index = 0; index < MAX_WORKFLOW_TOOLS + 5; index++) await w.workflow(`Flow ${index}`, 'acme');
    let listed = 0;
    const counting: ToolCatalogDeps['workflows'] = {
      list: async (query) => {
        const page = await w.store.list(query);
        listed += page.items.length;
        return page;
      },
      get: (id) => w.store.get(id),
    };
    const listing = await createToolCatalog({ ...w.deps, workflows: counting }).list({ kind: 'workflow' }, { tenant: 'acme' });
    expect(listing.counts.workflows).toBe(MAX_WORKFLOW_TOOLS);
    expect(listed).toBe(MAX_WORKFLOW_TOOLS);
    // The newest: the five oldest are the ones left out.
    expect(listing.tools.map((tool) => tool.title)).not.toContain('Flow 4');
    expect(listing.tools.map((tool) => tool.title)).toContain('Flow 5');
    expect(listing.notes).toEqual([{ reason: `only the ${MAX_WORKFLOW_TOOLS} newest active workflows are listed` }]);
  });
});
