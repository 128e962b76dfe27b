import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, DependencyUnavailableError, NotFoundError, ValidationError } from '../../../../core/errors.ts';
import type { EventEnvelope, NewEvent } from '../../../../core/events/envelope.ts';
import type { Redelivery, RetryRun } from '../../../../core/dead-letters/retry.ts';
import { CLAIM_LEASE_SECONDS } from '../../../../core/dead-letters/retry.ts';
import { createDeadLetterService, MAX_VIEW_BODY_CHARS } from '../../../../core/dead-letters/service.ts';
import { actionFailedBody, FakeQueue, MemoryLedger } from './fakes.ts';

const admin = { actor: 'alice', scope: {} };
const acmeOperator = { actor: 'bob', scope: { tenant: 'acme' } };

const envelope = (type: string, data: Record<string, unknown>, tenant: string, eventId = 'ev-1'): EventEnvelope =>
  ({ event_id: eventId, type, source: '/orchestrator/workflows', time: '2026-03-01T09:00:00.000Z', tenant, data }) as EventEnvelope;
const busEvent = (detail: EventEnvelope) => ({ version: '0', id: 'eb', 'detail-type': detail.type, source: detail.source, detail });

let now = Date.parse('2026-03-01T12:00:00.000Z');
let actions: FakeQueue;
let deployments: FakeQueue;
let deliveries: FakeQueue;
let ledger: MemoryLedger;
/** The runs and their tenants; a run's retry is accepted once, as ExecutionService.retryExecution. */
let runs: Map<string, { tenant: string; status: string }>;
let retried: string[];
let republished: EventEnvelope[];
let redelivered: Redelivery[];
let emitted: NewEvent[];
let log: string[];

const retryRun: RetryRun = async (executionId, actor, scope) => {
  const run = runs.get(executionId);
  if (!run || (scope.tenant !== undefined && scope.tenant !== run.tenant)) throw new NotFoundError(`execution ${executionId} not found`);
  if (run.status !== 'failed') throw new ConflictError(`execution ${executionId} is ${run.status}; only failed, timed_out, cancelled runs can be retried`);
  run.status = 'running';
  retried.push(`${executionId} by ${actor}`);
  log.push(`retry ${executionId}`);
  return { execution: { execution_id: executionId, status: 'running', tenant: run.tenant } };
};

function service(overrides: Partial<Parameters<typeof createDeadLetterService>[0]> = {}) {
  let id = 0;
  return createDeadLetterService({
    queues: { actions, deployments, deliveries },
    ledger,
    clock: { now: () => new Date(now).toISOString() },
    ids: { next: () => `id-${++id}` },
    retryRun,
    runTenant: async (executionId) => runs.get(executionId)?.tenant,
    republish: async (event) => void republished.push(event),
    redeliver: async (delivery) => void redelivered.push(delivery),
    emit: async (event) => void emitted.push(event),
    ...overrides,
  });
}

beforeEach(() => {
  now = Date.parse('2026-03-01T12:00:00.000Z');
  log = [];
  // One log for the queues and the retries, to see what came first.
  actions = new FakeQueue(log);
  deployments = new FakeQueue(log);
  deliveries = new FakeQueue(log);
  ledger = new MemoryLedger();
  runs = new Map([
    ['run-1', { tenant: 'acme', status: 'failed' }],
    ['run-2', { tenant: 'globex', status: 'failed' }],
    ['run-3', { tenant: 'acme', status: 'failed' }],
  ]);
  retried = [];
  republished = [];
  redelivered = [];
  emitted = [];
});

describe('retrying a failed action', () => {
  it('resumes the run, then marks the claim done, then deletes the message', async () => {
    actions.add('m-1', actionFailedBody('run-1'));
    const report = await service().retry('actions', { messageIds: ['m-1'] }, admin);
    expect(report.results).toEqual([{ message_id: 'm-1', kind: 'action_failed', outcome: 'retried', execution_id: 'run-1', workflow_id: 'orders', action_id: 'charge', execution_status: 'running' }]);
    expect(report.counts).toMatchObject({ retried: 1, refused: 0 });
    expect(retried).toEqual(['run-1 by alice']);
    expect(log.indexOf('retry run-1')).toBeLessThan(log.indexOf('delete m-1'));
    expect(actions.ids()).toEqual([]);
    expect(ledger.stateOf('actions', 'm-1')).toBe('done');
    expect(emitted).toEqual([expect.objectContaining({ type: 'orchestrator.dlq.retried', tenant: 'acme', subject: 'executions/run-1' })]);
  });

  it('has one effect when the same message is retried twice', async () => {
    actions.add('m-1', actionFailedBody('run-1'));
    await service().retry('actions', { messageIds: ['m-1'] }, admin);
    const again = await service().retry('actions', { messageIds: ['m-1'] }, admin);
    expect(again.results).toEqual([{ message_id: 'm-1', outcome: 'already_retried', reason: expect.stringContaining('alice') }]);
    expect(retried).toHaveLength(1);
  });

  it('leaves a refused retry\'s message in the queue, visible, and lets it be retried later', async () => {
    runs.get('run-1')!.status = 'running';
    actions.add('m-1', actionFailedBody('run-1'));
    const refused = await service().retry('actions', { messageIds: ['m-1'] }, admin);
    expect(refused.results[0]).toMatchObject({ outcome: 'refused', reason: expect.stringContaining('is running') });
    expect(actions.ids()).toEqual(['m-1']);
    expect(actions.hidden()).toEqual([]);
    expect(ledger.stateOf('actions', 'm-1')).toBe('failed');

    runs.get('run-1')!.status = 'failed';
    const later = await service().retry('actions', { messageIds: ['m-1'] }, admin);
    expect(later.results[0]!.outcome).toBe('retried');
    expect(actions.ids()).toEqual([]);
  });

  it('answers not_found for a run that is gone, keeping the message', async () => {
    actions.add('m-1', actionFailedBody('run-404'));
    const report = await service().retry('actions', { messageIds: ['m-1'] }, admin);
    expect(report.results[0]).toMatchObject({ outcome: 'not_found', reason: 'execution run-404 not found' });
    expect(actions.ids()).toEqual(['m-1']);
  });

  it('retries a run once for all its dead letters, and deletes them all', async () => {
    actions.add('m-1', actionFailedBody('run-1', 'charge'));
    actions.add('m-2', actionFailedBody('run-1', 'ship'));
    const report = await service().retry('actions', { executionId: 'run-1' }, admin);
    expect(report.results.map((result) => [result.message_id, result.outcome])).toEqual([
      ['m-1', 'retried'],
      ['m-2', 'retried'],
    ]);
    expect(retried).toEqual(['run-1 by alice']);
    expect(actions.ids()).toEqual([]);
  });

  it('by execution_id retries that run only, and gives the others back at once', async () => {
    actions.add('m-1', actionFailedBody('run-1'));
    actions.add('m-3', actionFailedBody('run-3'));
    const report = await service().retry('actions', { executionId: 'run-3' }, admin);
    expect(report.results.map((result) => result.message_id)).toEqual(['m-3']);
    expect(actions.ids()).toEqual(['m-1']);
    expect(actions.hidden()).toEqual([]);
    // Released before the retry ran: nothing waits on another run's retry.
    expect(log.indexOf('release m-1')).toBeLessThan(log.indexOf('retry run-3'));
  });

  it('with all, reads and retries the first max messages only', async () => {
    for (const run of ['run-1', 'run-2', 'run-3']) actions.add(`m-${run}`, actionFailedBody(run));
    const report = await service().retry('actions', { all: true, max: 2 }, admin);
    expect(report.results.map((result) => result.message_id)).toEqual(['m-run-1', 'm-run-2']);
    expect(actions.ids()).toEqual(['m-run-3']);
  });

  it("lets a tenant's operator retry its own runs' messages only, without listing the others", async () => {
    actions.add('m-1', actionFailedBody('run-1'));
    actions.add('m-2', actionFailedBody('run-2'));
    const report = await service().retry('actions', { all: true, max: 10 }, acmeOperator);
    expect(report.results.map((result) => [result.message_id, result.outcome])).toEqual([['m-1', 'retried']]);
    expect(actions.ids()).toEqual(['m-2']);
    const asked = await service().retry('actions', { messageIds: ['m-2'] }, acmeOperator);
    expect(asked.results).toEqual([{ message_id: 'm-2', outcome: 'not_found', reason: 'no such message in the queue' }]);
    expect(retried).toEqual(['run-1 by bob']);
  });

  it("tells a tenant's operator nothing of another tenant's message, whatever state its retry is in", async () => {
    actions.add('m-2', actionFailedBody('run-2'));
    actions.add('m-x', 'garbage');
    await ledger.claim({ queue: 'actions', messageId: 'm-2', claimId: 'admin', by: 'alice', at: new Date(now).toISOString(), leaseUntil: new Date(now + 60_000).toISOString() });
    const all = await service().retry('actions', { all: true, max: 10 }, acmeOperator);
    expect(all.results).toEqual([]);
    const named = await service().retry('actions', { messageIds: ['m-2', 'm-x'] }, acmeOperator);
    expect(named.results.map((result) => Object.keys(result).sort())).toEqual([
      ['message_id', 'outcome', 'reason'],
      ['message_id', 'outcome', 'reason'],
    ]);
    expect(actions.hidden()).toEqual([]);
    expect(ledger.stateOf('actions', 'm-2')).toBe('claimed');
  });

  it("shows the default tenant's operator neither a message it does not understand nor one of a run that is gone", async () => {
    actions.add('m-x', 'garbage');
    actions.add('m-gone', actionFailedBody('run-gone'));
    const report = await service().retry('actions', { all: true, max: 10 }, { actor: 'dora', scope: { tenant: 'default' } });
    expect(report.results).toEqual([]);
  });

  it("shows a tenant's operator no failed action at all where the runtime cannot tell a run's tenant", async () => {
    actions.add('m-1', actionFailedBody('run-1'));
    const report = await service({ runTenant: undefined }).retry('actions', { all: true, max: 10 }, acmeOperator);
    expect(report.results).toEqual([]);
    expect(retried).toEqual([]);
    expect((await service({ runTenant: undefined }).retry('actions', { all: true, max: 10 }, admin)).results[0]!.outcome).toBe('retried');
  });

  it('answers in_progress while another retry holds the claim, and takes over a claim whose lease ended', async () => {
    actions.add('m-1', actionFailedBody('run-1'));
    await ledger.claim({ queue: 'actions', messageId: 'm-1', claimId: 'other', by: 'carol', at: new Date(now).toISOString(), leaseUntil: new Date(now + CLAIM_LEASE_SECONDS * 1000).toISOString() });
    const busy = await service().retry('actions', { messageIds: ['m-1'] }, admin);
    expect(busy.results[0]!.outcome).toBe('in_progress');
    expect(actions.hidden()).toEqual([]);
    expect(retried).toEqual([]);

    now += (CLAIM_LEASE_SECONDS + 1) * 1000;
    const after = await service().retry('actions', { messageIds: ['m-1'] }, admin);
    expect(after.results[0]!.outcome).toBe('retried');
  });

  it('deletes a message whose retry was done but whose delete was lost, without retrying again', async () => {
    actions.add('m-1', actionFailedBody('run-1'));
    actions.failDelete = true;
    const first = await service().retry('actions', { messageIds: ['m-1'] }, admin);
    expect(first.results[0]!.outcome).toBe('retried');
    expect(actions.ids()).toEqual(['m-1']);
    expect(actions.hidden()).toEqual([]);

    actions.failDelete = false;
    const second = await service().retry('actions', { messageIds: ['m-1'] }, admin);
    expect(second.results[0]!.outcome).toBe('already_retried');
    expect(actions.ids()).toEqual([]);
    expect(retried).toHaveLength(1);
  });

  it('reports a broken retry as failed without its internals, keeps the message and releases the claim', async () => {
    actions.add('m-1', actionFailedBody('run-1'));
    actions.add('m-3', actionFailedBody('run-3'));
    const broken: RetryRun = async (executionId) => {
      if (executionId === 'run-1') throw new DependencyUnavailableError('the engine is unavailable');
      throw new TypeError('secret internals');
    };
    const report = await service({ retryRun: broken }).retry('actions', { all: true, max: 10 }, admin);
    expect(report.results[0]).toMatchObject({ outcome: 'failed', reason: 'the engine is unavailable' });
    expect(report.results[1]).toMatchObject({ outcome: 'failed' });
    expect(report.results[1]!.reason).not.toContain('secret');
    expect(actions.ids()).toEqual(['m-1', 'm-3']);
    expect(actions.hidden()).toEqual([]);
    expect(ledger.stateOf('actions', 'm-1')).toBe('failed');
  });

  it('starts nothing when the claim cannot be written', async () => {
    actions.add('m-1', actionFailedBody('run-1'));
    ledger.failClaims = true;
    const report = await service().retry('actions', { messageIds: ['m-1'] }, admin);
    expect(report.results[0]!.outcome).toBe('failed');
    expect(retried).toEqual([]);
    expect(actions.ids()).toEqual(['m-1']);
    expect(actions.hidden()).toEqual([]);
  });

  it('answers for ids the queue does not hold: not_found, or what the ledger knows', async () => {
    const report = await service().retry('actions', { messageIds: ['nope'] }, admin);
    expect(report.results).toEqual([{ message_id: 'nope', outcome: 'not_found', reason: expect.any(String) }]);
  });
});

describe('messages that are not retried', () => {
  it('answers not_retryable for a failed compensation and a message it does not understand, and keeps both', async () => {
    actions.add('m-c', { ...actionFailedBody('run-1'), kind: 'compensation_failed' });
    actions.add('m-x', 'garbage');
    const report = await service().retry('actions', { all: true, max: 10 }, admin);
    expect(report.results).toEqual([
      expect.objectContaining({ message_id: 'm-c', outcome: 'not_retryable', reason: expect.stringContaining('compensation') }),
      expect.objectContaining({ message_id: 'm-x', outcome: 'not_retryable', reason: expect.stringContaining('not JSON') }),
    ]);
    expect(actions.ids()).toEqual(['m-c', 'm-x']);
    expect(actions.hidden()).toEqual([]);
    expect(ledger.records.size).toBe(0);
  });

  it('answers not_retryable for kinds this runtime cannot retry', async () => {
    actions.add('m-1', actionFailedBody('run-1'));
    const report = await service({ retryRun: undefined }).retry('actions', { messageIds: ['m-1'] }, admin);
    expect(report.results[0]).toMatchObject({ outcome: 'not_retryable', reason: 'runs cannot be retried in this runtime' });
  });
});

describe('retrying deployments and deliveries', () => {
  it('publishes the version-published envelope again, as it was', async () => {
    const event = envelope('orchestrator.workflow.version_published', { workflow_id: 'orders', version: 2 }, 'acme');
    deployments.add('d-1', busEvent(event), { ERROR_CODE: 'SDK_CLIENT_ERROR' });
    const report = await service().retry('deployments', { messageIds: ['d-1'] }, admin);
    expect(report.results[0]).toMatchObject({ outcome: 'retried', kind: 'deployment_failed', event_id: 'ev-1', workflow_id: 'orders' });
    expect(republished).toEqual([event]);
    expect(deployments.ids()).toEqual([]);
  });

  it("does not let another tenant's operator see or retry a deployment", async () => {
    deployments.add('d-1', busEvent(envelope('orchestrator.workflow.version_published', { workflow_id: 'orders', version: 2 }, 'globex')));
    const report = await service().retry('deployments', { messageIds: ['d-1'] }, acmeOperator);
    expect(report.results).toEqual([{ message_id: 'd-1', outcome: 'not_found', reason: 'no such message in the queue' }]);
    const all = await service().retry('deployments', { all: true, max: 10 }, acmeOperator);
    expect(all.results).toEqual([]);
    expect(republished).toEqual([]);
    expect(deployments.ids()).toEqual(['d-1']);
  });

  it('delivers a failed delivery again to its subscription; a dead letter naming only a rule is not retryable', async () => {
    const event = envelope('orchestrator.run.failed', { execution_id: 'run-1' }, 'acme');
    deliveries.add('w-1', { subscription_id: 'sub-1', event, error: 'HTTP 500', attempts: 5 });
    deliveries.add('w-2', busEvent(event), { RULE_ARN: 'arn:aws:events:us-east-1:1:rule/r' });
    const report = await service().retry('deliveries', { all: true, max: 10 }, acmeOperator);
    expect(report.results.map((result) => [result.message_id, result.outcome])).toEqual([
      ['w-1', 'retried'],
      ['w-2', 'not_retryable'],
    ]);
    expect(redelivered).toEqual([{ subscription_id: 'sub-1', event }]);
    expect(deliveries.ids()).toEqual(['w-2']);
  });

  it('keeps a delivery whose subscription is gone', async () => {
    deliveries.add('w-1', { subscription_id: 'sub-gone', event: envelope('orchestrator.run.failed', {}, 'acme') });
    const report = await service({ redeliver: async () => Promise.reject(new NotFoundError('subscription sub-gone not found')) }).retry('deliveries', { messageIds: ['w-1'] }, admin);
    expect(report.results[0]).toMatchObject({ outcome: 'not_found', reason: 'subscription sub-gone not found' });
    expect(deliveries.ids()).toEqual(['w-1']);
  });
});

describe('the queues of a runtime', () => {
  it('refuses a queue the runtime does not have, naming those it has', async () => {
    const local = service({ queues: { actions, deliveries } });
    await expect(local.retry('deployments', { all: true, max: 1 }, admin)).rejects.toThrow(ValidationError);
    await expect(local.messages('deployments', 10)).rejects.toMatchObject({ details: [{ field: 'queue', message: "must be one of the queues this runtime has: actions, deliveries (got 'deployments')" }] });
  });

  it('gives stats for every queue it has, reading none that is empty, and leaves every message visible', async () => {
    actions.add('m-1', actionFailedBody('run-1'));
    actions.add('m-2', actionFailedBody('run-2', 'ship'));
    const { queues } = await service({ queues: { actions, deliveries } }).stats();
    expect(queues.map((queue) => [queue.queue, queue.visible, queue.sampled])).toEqual([
      ['actions', 2, 2],
      ['deliveries', 0, 0],
    ]);
    expect(queues[0]!.by_action).toHaveLength(2);
    expect(queues[0]!.oldest_message_age_seconds).toBe(2 * 3600);
    expect(actions.hidden()).toEqual([]);
    expect(log.filter((entry) => entry.startsWith('hold')).length).toBe(2);
  });

  it('shows messages with their age, a long body as its start only', async () => {
    actions.add('m-1', actionFailedBody('run-1'));
    actions.add('m-2', { ...actionFailedBody('run-2'), cause: 'c'.repeat(MAX_VIEW_BODY_CHARS) });
    const page = await service().messages('actions', 10);
    expect(page.messages[0]).toMatchObject({ message_id: 'm-1', age_seconds: 7200, body: actionFailedBody('run-1') });
    expect(page.messages[1]!.body).toBeUndefined();
    expect(page.messages[1]!.body_preview).toHaveLength(MAX_VIEW_BODY_CHARS);
    expect(actions.hidden()).toEqual([]);
  });
});
