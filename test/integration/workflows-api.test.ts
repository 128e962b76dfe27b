import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DEFINITION_BYTES } from '../../core/workflow/validate.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';
import { documentAnalysis } from '../support/workflows.ts';

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;

let runtime: LocalRuntime;
let call: Call;

beforeAll(async () => {
  ({ runtime, call } = await startTestApi());
});
afterAll(() => runtime.close());

const asAlice = { 'x-user-id': 'alice@example.com' };

async function create(definition: unknown = documentAnalysis(), headers: Record<string, string> = asAlice) {
  const reply = await call('POST', '/workflows', { body: definition, headers });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply;
}

async function totalWorkflows(): Promise<number> {
  return (await call<{ total_workflows: number }>('GET', '/workflows/statistics')).body.data.total_workflows;
}

function expectError(reply: ApiReply, status: number, code: string, field?: string, text?: RegExp) {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.body.success).toBe(false);
  expect(reply.body.error_code).toBe(code);
  expect(reply.body.request_id).toEqual(expect.any(String));
  if (field !== undefined) expect(reply.body.details?.map((detail) => detail.field)).toContain(field);
  if (text) expect(`${reply.body.message} ${JSON.stringify(reply.body.details)}`).toMatch(text);
}

describe('health', () => {
  it('answers liveness without touching the table', async () => {
    const reply = await call('GET', '/health');
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ success: true, data: { status: 'healthy' } });
  });

  it('reports the workflow table reachable', async () => {
    const reply = await call('GET', '/workflows/health');
    expect(reply.status).toBe(200);
    expect(reply.body.data).toMatchObject({ status: 'healthy', checks: { workflow_table: { status: 'healthy' } } });
  });
});

describe('creating and reading workflows', () => {
  it('creates version 1 with the caller as creator, defaults applied, and an envelope', async () => {
    const reply = await create();
    expect(reply.body).toMatchObject({ success: true, request_id: expect.any(String), timestamp: expect.any(String) });
    expect(reply.body.data).toMatchObject({ version: 1, revision: 1, latest_version: 1, status: 'active', tags: [], created_by: 'alice@example.com', updated_by: 'alice@example.com' });
    expect(reply.headers.get('etag')).toBe('"1"');
    expect(reply.headers.get('location')).toBe(`/workflows/${reply.body.data.workflow_id}`);

    const read = await call('GET', `/workflows/${reply.body.data.workflow_id}`);
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual(reply.body.data);
  });

  it('records anonymous when no identity is given', async () => {
    const reply = await create(documentAnalysis(), {});
    expect(reply.body.data.created_by).toBe('anonymous');
  });

  it('answers 404 with the envelope for an unknown workflow', async () => {
    expectError(await call('GET', '/workflows/does-not-exist'), 404, 'NOT_FOUND', 'workflow_id', /does-not-exist/);
  });

  it('answers 404 for an unknown route and 405 for a wrong method', async () => {
    expectError(await call('GET', '/nothing/here'), 404, 'ROUTE_NOT_FOUND');
    const reply = await call('PATCH', '/workflows');
    expectError(reply, 405, 'METHOD_NOT_ALLOWED');
    expect(reply.headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS');
  });
});

describe('refusing bad definitions with the field and the reason, writing nothing', () => {
  const base = documentAnalysis();
  const [fetchDoc, analyze] = base.actions;
  const cases: { name: string; body: unknown; field: string; text: RegExp }[] = [
    { name: 'an unknown action_type', body: { ...base, actions: [{ ...fetchDoc, action_type: 'teleport' }] }, field: 'actions[0].action_type', text: /teleport.*service_call, notification/ },
    { name: 'a service_call without a service', body: { ...base, actions: [{ ...fetchDoc, config: { endpoint: '/fetch', method: 'POST' } }] }, field: 'actions[0].config.service', text: /service/ },
    { name: 'a service_call without a method', body: { ...base, actions: [{ ...fetchDoc, config: { service: 's', endpoint: '/fetch' } }] }, field: 'actions[0].config.method', text: /method/ },
    { name: 'a notification without a message', body: { ...base, actions: [{ action_id: 'n', action_type: 'notification', config: { channels: ['log'] } }] }, field: 'actions[0].config.message', text: /message/ },
    { name: 'a duplicate action_id', body: { ...base, actions: [fetchDoc, { ...fetchDoc }] }, field: 'actions[1].action_id', text: /duplicate action_id 'fetch_doc'/ },
    { name: 'a dependency on a missing action', body: { ...base, actions: [fetchDoc, { ...analyze, depends_on: ['fetch_doc', 'ghost'] }] }, field: 'actions[1].depends_on[1]', text: /'ghost'/ },
    {
      name: 'a dependency cycle',
      body: { ...base, actions: [{ ...fetchDoc, depends_on: ['analyze_quality'] }, analyze] },
      field: 'actions[1].depends_on',
      text: /cycle: analyze_quality -> fetch_doc -> analyze_quality/,
    },
    { name: 'a reference to nothing', body: { ...base, actions: [{ ...fetchDoc, config: { ...fetchDoc!.config, parameters: { url: '{{document_link}}' } } }] }, field: 'actions[0].config.parameters.url', text: /document_link/ },
    {
      name: 'a reference to an action that is not upstream',
      body: { ...base, actions: [fetchDoc, { ...analyze, depends_on: [] }] },
      field: 'actions[1].config.parameters.content',
      text: /'fetch_doc', which 'analyze_quality' does not depend on/,
    },
    { name: 'a default of the wrong type', body: { ...base, parameters: [{ name: 'document_url', type: 'integer', default: 'ten' }] }, field: 'parameters[0].default', text: /integer/ },
    { name: 'an unknown parameter type', body: { ...base, parameters: [{ name: 'document_url', type: 'float' }] }, field: 'parameters[0].type', text: /string, integer, number, boolean, array, object/ },
    { name: 'a misspelt key', body: { ...base, actions: [fetchDoc, { ...analyze, depends_on: undefined, depend_on: ['fetch_doc'] }] }, field: 'actions[1]', text: /depend_on/ },
    { name: 'no name', body: { ...base, name: undefined }, field: 'name', text: /name/ },
    { name: 'no actions', body: { ...base, actions: [] }, field: 'actions', text: /at least one action/ },
  ];

  for (const testCase of cases) {
    it(`refuses ${testCase.name}`, async () => {
      const before = await totalWorkflows();
      expectError(await call('POST', '/workflows', { body: testCase.body, headers: asAlice }), 400, 'VALIDATION_ERROR', testCase.field, testCase.text);
      expect(await totalWorkflows()).toBe(before);
    });
  }

  it('lists every problem at once', async () => {
    const reply = await call('POST', '/workflows', { body: { ...base, actions: [fetchDoc, fetchDoc, { ...analyze, depends_on: ['ghost'] }] } });
    expect(reply.status).toBe(400);
    expect(reply.body.details?.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a body that is not JSON with 400, a wrong content type with 415, no body with 400', async () => {
    expectError(await call('POST', '/workflows', { rawBody: '{"name": ', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON', '(body)');
    expectError(await call('POST', '/workflows', { rawBody: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type');
    expectError(await call('POST', '/workflows', { headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON', '(body)', /empty/);
    expectError(await call('POST', '/workflows', { body: [1, 2] }), 400, 'VALIDATION_ERROR');
  });

  it('refuses an oversized body with 413 before parsing it', async () => {
    const reply = await call('POST', '/workflows', { rawBody: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }), headers: { 'content-type': 'application/json' } });
    expectError(reply, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('refuses a definition that would not fit in one DynamoDB item with 413 and its size', async () => {
    const before = await totalWorkflows();
    const huge = documentAnalysis({ parameters: [{ name: 'document_url', type: 'string', required: false, default: 'x'.repeat(MAX_DEFINITION_BYTES) }] });
    const reply = await call('POST', '/workflows', { body: huge });
    expectError(reply, 413, 'PAYLOAD_TOO_LARGE', 'actions', new RegExp(`limit is ${MAX_DEFINITION_BYTES} bytes`));
    expect(await totalWorkflows()).toBe(before);
  });

  it('refuses an over-long X-User-ID', async () => {
    expectError(await call('POST', '/workflows', { body: base, headers: { 'x-user-id': 'u'.repeat(300) } }), 400, 'VALIDATION_ERROR', 'X-User-ID');
  });
});

describe('updating: versions and optimistic concurrency', () => {
  it('changes metadata without a new version, and the definition with one', async () => {
    const { body } = await create();
    const id = body.data.workflow_id as string;

    const meta = await call('PUT', `/workflows/${id}`, { body: { description: 'Updated description', tags: ['updated', 'v2'] }, headers: { 'x-user-id': 'bob' } });
    expect(meta.status).toBe(200);
    expect(meta.body.data).toMatchObject({ version: 1, revision: 2, description: 'Updated description', tags: ['updated', 'v2'], updated_by: 'bob', created_by: 'alice@example.com' });
    expect(meta.headers.get('etag')).toBe('"2"');

    const newActions = [...documentAnalysis().actions, { action_id: 'notify', action_type: 'notification', config: { message: 'score {{analyze_quality.response.score}}' }, depends_on: ['analyze_quality'] }];
    const definition = await call('PUT', `/workflows/${id}`, { body: { actions: newActions }, headers: { 'if-match': '"2"' } });
    expect(definition.status, JSON.stringify(definition.body)).toBe(200);
    expect(definition.body.data).toMatchObject({ version: 2, revision: 3, latest_version: 2 });

    const versions = await call<{ versions: { version: number; actions: unknown[] }[] }>('GET', `/workflows/${id}/versions`);
    expect(versions.body.data.versions.map((version) => version.version)).toEqual([1, 2]);
    expect(versions.body.data.versions[0]!.actions).toHaveLength(2);
    expect(versions.body.data.versions[1]!.actions).toHaveLength(3);

    const v1 = await call('GET', `/workflows/${id}?version=1`);
    expect(v1.body.data).toMatchObject({ version: 1, latest_version: 2, description: 'Updated description' });
    expect(v1.body.data.actions).toHaveLength(2);
    expectError(await call('GET', `/workflows/${id}?version=9`), 404, 'NOT_FOUND', 'version');
    expectError(await call('GET', `/workflows/${id}?version=zero`), 400, 'VALIDATION_ERROR', 'version');
  });

  it('changes nothing when the update repeats the current state', async () => {
    const { body } = await create();
    const id = body.data.workflow_id as string;
    const reply = await call('PUT', `/workflows/${id}`, { body: { name: body.data.name, actions: body.data.actions } });
    expect(reply.status).toBe(200);
    expect(reply.body.data).toMatchObject({ revision: 1, version: 1 });
    expect(reply.body.message).toBe('nothing changed');
  });

  it('answers 409 to a stale If-Match or expected_version and keeps the winner', async () => {
    const { body } = await create();
    const id = body.data.workflow_id as string;
    await call('PUT', `/workflows/${id}`, { body: { description: 'first' }, headers: { 'if-match': '"1"' } });
    expectError(await call('PUT', `/workflows/${id}`, { body: { description: 'second' }, headers: { 'if-match': '"1"' } }), 409, 'CONFLICT', 'If-Match');
    expectError(await call('PUT', `/workflows/${id}`, { body: { description: 'third', expected_version: 5 } }), 409, 'CONFLICT', 'expected_version');
    expectError(await call('PUT', `/workflows/${id}`, { body: { description: 'x' }, headers: { 'if-match': 'yesterday' } }), 400, 'VALIDATION_ERROR', 'If-Match');
    expect((await call('GET', `/workflows/${id}`)).body.data.description).toBe('first');
  });

  it('lets exactly one of ten concurrent conditional updates win', async () => {
    const { body } = await create();
    const id = body.data.workflow_id as string;
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, index) => call('PUT', `/workflows/${id}`, { body: { description: `writer ${index}` }, headers: { 'if-match': '"1"' } })),
    );
    const statuses = replies.map((reply) => reply.status).sort();
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(9);
    const winner = replies.find((reply) => reply.status === 200)!;
    expect((await call('GET', `/workflows/${id}`)).body.data).toMatchObject({ revision: 2, description: winner.body.data.description });
  });

  it('loses no change when unconditional updates race', async () => {
    const { body } = await create();
    const id = body.data.workflow_id as string;
    const replies = await Promise.all([
      call('PUT', `/workflows/${id}`, { body: { description: 'described' } }),
      call('PUT', `/workflows/${id}`, { body: { tags: ['tagged'] } }),
      call('PUT', `/workflows/${id}`, { body: { status: 'paused' } }),
    ]);
    expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200]);
    expect((await call('GET', `/workflows/${id}`)).body.data).toMatchObject({ description: 'described', tags: ['tagged'], status: 'paused', revision: 4 });
  });

  it('lands every one of 100 concurrent unconditional updates of different fields (each retries its own write)', async () => {
    const { body } = await create();
    const id = body.data.workflow_id as string;
    const writers = Array.from({ length: 100 }, (_, index) => `tag-${String(index).padStart(3, '0')}`);
    // Each writer sets its own tag list and description: the last writer's values win, and every write lands.
    const replies = await Promise.all(writers.map((tag) => call('PUT', `/workflows/${id}`, { body: { description: `by ${tag}`, tags: [tag] } })));
    expect(replies.filter((reply) => reply.status !== 200).map((reply) => reply.status)).toEqual([]);
    const revisions = replies.map((reply) => reply.body.data.revision as number).sort((a, b) => a - b);
    // One revision per write, none lost and none shared: 2..101.
    expect(revisions).toEqual(Array.from({ length: 100 }, (_, index) => index + 2));
    const final = (await call('GET', `/workflows/${id}`)).body.data;
    expect(final.revision).toBe(101);
    const last = replies.find((reply) => reply.body.data.revision === 101)!;
    expect(final).toMatchObject({ description: last.body.data.description, tags: last.body.data.tags });
  }, 60_000);

  it('refuses an update that breaks the definition and writes nothing', async () => {
    const { body } = await create();
    const id = body.data.workflow_id as string;
    const reply = await call('PUT', `/workflows/${id}`, { body: { parameters: [] } });
    expectError(reply, 400, 'VALIDATION_ERROR', 'actions[0].config.parameters.url', /document_url/);
    expect((await call('GET', `/workflows/${id}`)).body.data).toMatchObject({ revision: 1, version: 1 });
  });

  it('refuses an empty update and unknown fields', async () => {
    const { body } = await create();
    const id = body.data.workflow_id as string;
    expectError(await call('PUT', `/workflows/${id}`, { body: {} }), 400, 'VALIDATION_ERROR', '(body)', /nothing to update/);
    expectError(await call('PUT', `/workflows/${id}`, { body: { colour: 'red' } }), 400, 'VALIDATION_ERROR', '(body)', /colour/);
    expectError(await call('PUT', `/workflows/missing-id`, { body: { description: 'x' } }), 404, 'NOT_FOUND');
  });
});

describe('deleting', () => {
  it('deletes a workflow and its versions; a second delete is 404', async () => {
    const { body } = await create();
    const id = body.data.workflow_id as string;
    await call('PUT', `/workflows/${id}`, { body: { actions: documentAnalysis().actions.slice(0, 1).map((action) => ({ ...action, config: { ...action.config } })) } });
    expectError(await call('DELETE', `/workflows/${id}`, { headers: { 'if-match': '"1"' } }), 409, 'CONFLICT');
    const reply = await call('DELETE', `/workflows/${id}`);
    expect(reply.status).toBe(200);
    expect(reply.body.data).toEqual({ workflow_id: id, deleted: true });
    expectError(await call('GET', `/workflows/${id}`), 404, 'NOT_FOUND');
    expectError(await call('GET', `/workflows/${id}/versions`), 404, 'NOT_FOUND');
    expectError(await call('DELETE', `/workflows/${id}`), 404, 'NOT_FOUND');
  });
});

describe('lifecycle events', () => {
  it('puts created, updated, version-published and deleted events on the bus, and the recorder keeps them', async () => {
    const eventsOf = async (id: string) => {
      await runtime.events.idle();
      const { items } = await runtime.events.history.query({ workflow_id: id, limit: 50 });
      return items.reverse().map((event) => [event.source, event.type, event.data['version']]);
    };
    const { body } = await create();
    const id = body.data.workflow_id as string;
    await call('PUT', `/workflows/${id}`, { body: { description: 'metadata only' } });
    await call('PUT', `/workflows/${id}`, { body: { execution_mode: 'express' } });
    await call('DELETE', `/workflows/${id}`);
    expect(await eventsOf(id)).toEqual([
      ['/orchestrator/workflows', 'orchestrator.workflow.created', 1],
      ['/orchestrator/workflows', 'orchestrator.workflow.version_published', 1],
      ['/orchestrator/workflows', 'orchestrator.workflow.updated', 1],
      ['/orchestrator/workflows', 'orchestrator.workflow.updated', 2],
      ['/orchestrator/workflows', 'orchestrator.workflow.version_published', 2],
      ['/orchestrator/workflows', 'orchestrator.workflow.deleted', undefined],
    ]);
  });
});

describe('templates', () => {
  it('lists the built-in templates with their parameters', async () => {
    const reply = await call<{ templates: { name: string; parameters: { name: string }[] }[] }>('GET', '/workflows/templates');
    const names = reply.body.data.templates.map((template) => template.name);
    expect(names).toEqual(expect.arrayContaining(['hello_world', 'document_analysis', 'pr_confidence', 'ingestion']));
    expect(reply.body.data.templates.find((template) => template.name === 'pr_confidence')?.parameters.map((parameter) => parameter.name)).toEqual(['pr_number', 'repository']);
  });

  it('creates a workflow from a template with customizations', async () => {
    const reply = await call('POST', '/workflows/from-template', {
      body: { template_name: 'document_analysis', customizations: { name: 'Custom Document Analysis', description: 'Customized workflow', services: { analysis_service: 'quality_service' } } },
      headers: asAlice,
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body.data).toMatchObject({ name: 'Custom Document Analysis', description: 'Customized workflow', version: 1, created_by: 'alice@example.com' });
    expect((reply.body.data.actions as { config: { service: string } }[])[1]!.config.service).toBe('quality_service');
  });

  it('refuses an unknown template and a customization that matches nothing', async () => {
    expectError(await call('POST', '/workflows/from-template', { body: { template_name: 'nope' } }), 404, 'NOT_FOUND', 'template_name', /hello_world/);
    expectError(
      await call('POST', '/workflows/from-template', { body: { template_name: 'hello_world', customizations: { parameter_defaults: { msg: 'hi' } } } }),
      400,
      'VALIDATION_ERROR',
      'customizations.parameter_defaults.msg',
    );
    expectError(await call('POST', '/workflows/from-template', { body: {} }), 400, 'VALIDATION_ERROR', 'template_name');
  });
});

describe('listing, search and statistics', () => {
  let listing: Awaited<ReturnType<typeof startTestApi>>;

  beforeAll(async () => {
    listing = await startTestApi();
    const definitions = [
      { name: 'Nightly Ingestion', description: 'Pulls Jira', tags: ['ingestion'], status: 'active', user: 'carol' },
      { name: 'PR scorer', description: 'confidence for pull requests', tags: ['github'], status: 'paused', user: 'carol' },
      { name: 'Docs QA', description: 'Document quality', tags: ['DOCS'], status: 'active', user: 'dave' },
      { name: 'Archive sweep', description: 'nothing to see', tags: [], status: 'archived', user: 'dave' },
      { name: 'Ingestion backfill', description: 'one-off', tags: [], status: 'draft', user: 'dave' },
    ];
    for (const { user, ...metadata } of definitions) {
      const reply = await listing.call('POST', '/workflows', { body: { ...documentAnalysis(), ...metadata }, headers: { 'x-user-id': user } });
      expect(reply.status).toBe(201);
    }
  });
  afterAll(() => listing.runtime.close());

  it('lists newest first with total, page and page_size', async () => {
    const reply = await listing.call<{ workflows: { name: string }[]; total: number; page: number; page_size: number; has_more: boolean }>('GET', '/workflows?page=2&page_size=2');
    expect(reply.body.data).toMatchObject({ total: 5, page: 2, page_size: 2, has_more: true });
    expect(reply.body.data.workflows.map((workflow) => workflow.name)).toEqual(['Docs QA', 'PR scorer']);
  });

  it('walks all pages with next_token', async () => {
    const names: string[] = [];
    let token: string | null = null;
    do {
      const query: string = token ? `&next_token=${encodeURIComponent(token)}` : '';
      const reply: ApiReply<{ workflows: { name: string }[]; next_token: string | null }> = await listing.call('GET', `/workflows?page_size=2${query}`);
      expect(reply.status).toBe(200);
      names.push(...reply.body.data.workflows.map((workflow) => workflow.name));
      token = reply.body.data.next_token;
    } while (token);
    expect(names).toEqual(['Ingestion backfill', 'Archive sweep', 'Docs QA', 'PR scorer', 'Nightly Ingestion']);
  });

  it('filters by status and created_by', async () => {
    const active = await listing.call<{ workflows: { name: string }[]; total: number }>('GET', '/workflows?status=active');
    expect(active.body.data.workflows.map((workflow) => workflow.name)).toEqual(['Docs QA', 'Nightly Ingestion']);
    const carolPaused = await listing.call<{ workflows: { name: string }[]; total: number }>('GET', '/workflows?status=paused&created_by=carol');
    expect(carolPaused.body.data.workflows.map((workflow) => workflow.name)).toEqual(['PR scorer']);
  });

  it('refuses bad paging and filter values naming the field', async () => {
    expectError(await listing.call('GET', '/workflows?page_size=500'), 400, 'VALIDATION_ERROR', 'page_size');
    expectError(await listing.call('GET', '/workflows?page=0'), 400, 'VALIDATION_ERROR', 'page');
    // A page whose offset would not be an exact integer (the fuzz suite found page 2^53 - 1 answered as 2^53).
    expectError(await listing.call('GET', '/workflows?page=9007199254740991'), 400, 'VALIDATION_ERROR', 'page');
    expect((await listing.call('GET', '/workflows?page=1000000')).status).toBe(200);
    expectError(await listing.call('GET', '/workflows?status=sleeping'), 400, 'VALIDATION_ERROR', 'status');
    expectError(await listing.call('GET', '/workflows?next_token=garbage'), 400, 'INVALID_CURSOR', 'next_token');
  });

  it('searches name, description and tags case-insensitively, name matches first', async () => {
    const reply = await listing.call<{ results: { name: string; matched: string[] }[]; total_matches: number }>('GET', '/workflows/search?q=INGESTION');
    // A name that starts with the query outranks one that only contains it, even with a tag match too.
    expect(reply.body.data.results.map((result) => [result.name, result.matched])).toEqual([
      ['Ingestion backfill', ['name']],
      ['Nightly Ingestion', ['name', 'tags']],
    ]);
    const byTag = await listing.call<{ results: { name: string; matched: string[] }[] }>('GET', '/workflows/search?q=docs');
    expect(byTag.body.data.results[0]).toMatchObject({ name: 'Docs QA', matched: ['name', 'tags'] });
    const byDescription = await listing.call<{ results: { name: string }[] }>('GET', '/workflows/search?q=pull%20req&limit=1');
    expect(byDescription.body.data.results.map((result) => result.name)).toEqual(['PR scorer']);
    expectError(await listing.call('GET', '/workflows/search'), 400, 'VALIDATION_ERROR', 'q');
  });

  it('counts by status, action type and creator', async () => {
    const reply = await listing.call('GET', '/workflows/statistics');
    expect(reply.body.data).toEqual({
      total_workflows: 5,
      total_actions: 10,
      average_actions_per_workflow: 2,
      by_status: { active: 2, paused: 1, archived: 1, draft: 1 },
      by_action_type: { service_call: { actions: 10, workflows: 5 } },
      by_creator: { carol: 2, dave: 3 },
    });
  });
});

describe('OpenAPI document', () => {
  it('describes every route of the table, with resolvable references', async () => {
    const response = await fetch(`${runtime.url}/openapi.json`);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, { operationId: string }>>; components: { schemas: Record<string, unknown> } };
    expect(document.openapi).toBe('3.1.0');
    const { routes } = await import('../../functions/routes.ts');
    for (const [name, route] of Object.entries(routes)) {
      expect(document.paths[route.path]?.[route.method.toLowerCase()]?.operationId, `${route.method} ${route.path}`).toBe(name);
    }
    const references = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]!);
    expect(references.length).toBeGreaterThan(0);
    for (const reference of references) expect(document.components.schemas, reference).toHaveProperty(reference);
    const createBody = JSON.stringify(document.paths['/workflows']?.post);
    expect(createBody).toContain('depends_on');
  });
});

describe('compiled state machine', () => {
  it('returns the ASL of a version and a graph of its actions', async () => {
    const { body } = await create();
    const id = body.data.workflow_id as string;
    const reply = await call<{
      definition: { StartAt: string; States: Record<string, { Type: string }> };
      graph: { nodes: { id: string; action_type: string }[]; edges: { from: string; to: string }[]; structure: unknown };
      placeholders: string[];
      limits: { states: number };
    }>('GET', `/workflows/${id}/state-machine`);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.data.definition.StartAt).toBe('fetch_doc');
    expect(reply.body.data.definition.States.fetch_doc?.Type).toBe('Task');
    expect(reply.body.data.graph.edges).toEqual([{ from: 'fetch_doc', to: 'analyze_quality', gated: false }]);
    expect(reply.body.data.graph.structure).toEqual({ kind: 'sequence', steps: [{ kind: 'action', id: 'fetch_doc' }, { kind: 'action', id: 'analyze_quality' }] });
    expect(reply.body.data.placeholders).toEqual(['${ActionRunnerFunctionArn}', '${DeadLetterQueueUrl}']);
    expectError(await call('GET', `/workflows/${id}/state-machine?version=4`), 404, 'NOT_FOUND', 'version');
  });

  it('shows where dependency gates wait (an N shape) and which child machine runs each action of a large workflow', async () => {
    const call_ = (id: string, depends_on: string[] = []) => ({ action_id: id, action_type: 'service_call', config: { service: 'svc', endpoint: `/${id}`, method: 'POST' }, depends_on });
    type View = { children: { part: number }[]; graph: { edges: { from: string; to: string; gated: boolean }[]; gates: { action_id: string; waits_for: string[]; in_call: boolean }[]; parts: { part: number; actions: string[] }[] }; limits: { machines: number } };
    const n = await call('POST', '/workflows', { body: { name: 'n shape', parameters: [], actions: [call_('a'), call_('b'), call_('c', ['a', 'b']), call_('d', ['b'])] } });
    const view = await call<View>('GET', `/workflows/${n.body.data.workflow_id as string}/state-machine`);
    expect(view.body.data.graph.gates).toEqual([{ action_id: 'c', waits_for: ['b'], in_call: true }]);
    // A waiter that is not a service call waits in a gate state of its own.
    const transform = { action_id: 'c', action_type: 'transform', config: { output: { v: 1 } }, depends_on: ['a', 'b'] };
    const withTransform = await call('POST', '/workflows', { body: { name: 'n shape with a transform', parameters: [], actions: [call_('a'), call_('b'), transform, call_('d', ['b'])] } });
    const transformView = await call<View>('GET', `/workflows/${withTransform.body.data.workflow_id as string}/state-machine`);
    expect(transformView.body.data.graph.gates).toEqual([{ action_id: 'c', waits_for: ['b'], in_call: false }]);
    expect(view.body.data.graph.edges.filter((edge) => edge.gated)).toEqual([{ from: 'b', to: 'c', gated: true }]);
    expect(view.body.data.graph.parts).toEqual([]);
    expect(view.body.data.limits.machines).toBe(1);

    const chain = Array.from({ length: 200 }, (_, i) => call_(`step${i}`, i === 0 ? [] : [`step${i - 1}`]));
    const large = await call('POST', '/workflows', { body: { name: 'two hundred steps', parameters: [], actions: chain } });
    expect(large.status, JSON.stringify(large.body)).toBe(201);
    const split = await call<View>('GET', `/workflows/${large.body.data.workflow_id as string}/state-machine`);
    expect(split.body.data.limits.machines).toBe(split.body.data.children.length + 1);
    expect(split.body.data.graph.parts.length).toBeGreaterThan(1);
    const inParts = split.body.data.graph.parts.flatMap((part) => part.actions);
    expect(new Set(inParts).size).toBe(inParts.length);
  });

  it('refuses an express workflow that cannot finish within five minutes', async () => {
    const before = await totalWorkflows();
    const reply = await call('POST', '/workflows', {
      body: { ...documentAnalysis(), execution_mode: 'express', actions: [{ action_id: 'pause', action_type: 'wait', config: { seconds: 600 } }] },
    });
    expectError(reply, 400, 'VALIDATION_ERROR', 'actions[0].config.seconds', /express workflow must finish within 300 s/);
    expect(await totalWorkflows()).toBe(before);
  });
});
