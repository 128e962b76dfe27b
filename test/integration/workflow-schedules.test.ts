import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoScheduleStore } from '../../adapters/aws/dynamo/dynamo-schedule-store.ts';
import { startTestApi, type ApiReply } from '../support/api.ts';
import { startEcosystemStub } from '../support/ecosystem-stub.ts';
import { until } from '../support/poll.ts';

type Api = Awaited<ReturnType<typeof startTestApi>>;
type Stub = Awaited<ReturnType<typeof startEcosystemStub>>;
type Firing = { trigger: string; outcome: string; due_at: string; execution_id?: string; cancelled_execution_id?: string };
type Schedule = { schedule_id: string; workflow_id: string; expression: string; timezone: string; enabled: boolean; revision: number; next_runs: string[]; last_firing?: Firing };
type Triggered = { schedule_id: string; firing: Firing; execution?: { execution_id: string; status: string } };

const LABEL = { name: 'label', type: 'string', required: true, description: 'What the run is for' };
/** One service call to the target stub with the run's label. */
const hitWorkflow = (name: string) => ({
  name,
  parameters: [LABEL],
  actions: [{ action_id: 'hit', action_type: 'service_call', config: { service: 'target', endpoint: '/hit', method: 'POST', parameters: { label: '{{label}}' } } }],
});
/** A run that stays running: its wait takes the API's waitMilliseconds (30 s here). */
const slowWorkflow = (name: string) => ({ name, parameters: [LABEL], actions: [{ action_id: 'pause', action_type: 'wait', config: { seconds: 30 } }] });

/** `at(...)` `ms` from now, in UTC to the second. */
const atIn = (ms: number) => `at(${new Date(Date.now() + ms).toISOString().slice(0, 19)})`;
const FAR = 'at(2199-01-01T00:00:00)';

/** Summer time in Berlin (UTC+2): from 01:00Z on the last Sunday of March to 01:00Z on the last Sunday of October. */
function berlinSummer(at: Date): boolean {
  const lastSunday = (month: number) => {
    const last = new Date(Date.UTC(at.getUTCFullYear(), month + 1, 0, 1));
    return last.getTime() - last.getUTCDay() * 86_400_000;
  };
  return at.getTime() >= lastSunday(2) && at.getTime() < lastSunday(9);
}

describe('workflow schedules', () => {
  const workflowsTableName = `schedules-${randomUUID()}`;
  const executionsTableName = `${workflowsTableName}-runs`;
  let api: Api;
  let target: Stub;

  const start = () => startTestApi({ workflowsTableName, executionsTableName, waitMilliseconds: 30_000, serviceUrls: { TARGET_URL: target.url } });
  const createWorkflow = async (definition: unknown) => {
    const reply = await api.call('POST', '/workflows', { body: definition });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    return String(reply.body.data.workflow_id);
  };
  const createSchedule = async (workflowId: string, body: Record<string, unknown>) => {
    const reply = await api.call<Schedule>('POST', `/workflows/${workflowId}/schedules`, { body: { parameters: { label: 'x' }, ...body } });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    return reply.body.data;
  };
  const armedKeys = () => api.runtime.scheduler.armed().map((entry) => entry.key);
  const statusOf = async (executionId: string) => String((await api.call('GET', `/workflows/executions/${executionId}`)).body.data.status);
  const running = (executionId: string) => until(async () => (await statusOf(executionId)) === 'running', `run ${executionId} to be running`, 10_000, 25);
  const trigger = (workflowId: string, scheduleId: string) => api.call<Triggered>('POST', `/workflows/${workflowId}/schedules/${scheduleId}/trigger`);
  const cancel = (...executionIds: string[]) => Promise.all(executionIds.map((id) => api.call('POST', `/workflows/executions/${id}/cancel`)));

  beforeAll(async () => {
    target = await startEcosystemStub({ 'POST /hit': () => ({ body: { hit: true } }) });
    api = await start();
  });
  afterAll(async () => {
    await api?.runtime.close();
    await target?.close();
  });

  it('creates a weekday 09:00 Berlin schedule whose next five times are 08:00Z in winter and 07:00Z in summer, then reads, changes and deletes it', async () => {
    const workflowId = await createWorkflow(hitWorkflow('weekdays'));
    const created = await createSchedule(workflowId, { expression: 'cron(0 9 ? * MON-FRI *)', timezone: 'Europe/Berlin', parameters: { label: 'daily' } });
    expect(created).toMatchObject({ workflow_id: workflowId, expression: 'cron(0 9 ? * MON-FRI *)', timezone: 'Europe/Berlin', enabled: true, overlap_policy: 'allow', revision: 1 });
    expect(created.next_runs).toHaveLength(5);
    for (const time of created.next_runs) {
      const at = new Date(time);
      expect(Date.parse(time)).toBeGreaterThan(Date.now());
      expect([1, 2, 3, 4, 5]).toContain(at.getUTCDay());
      expect([at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds()]).toEqual([berlinSummer(at) ? 7 : 8, 0, 0]);
    }
    expect([...created.next_runs].sort()).toEqual(created.next_runs);
    const key = `schedule:${workflowId}:${created.schedule_id}`;
    expect(armedKeys()).toContain(key);

    const path = `/workflows/${workflowId}/schedules/${created.schedule_id}`;
    const listed = await api.call<{ schedules: Schedule[]; count: number }>('GET', `/workflows/${workflowId}/schedules`);
    expect(listed.status).toBe(200);
    expect(listed.body.data.count).toBe(1);
    expect(listed.body.data.schedules[0]).toMatchObject({ schedule_id: created.schedule_id, expression: created.expression });
    const read = await api.call<Schedule>('GET', path);
    expect(read.body.data).toEqual(created);

    const disabled = await api.call<Schedule>('PUT', path, { body: { expression: 'cron(30 6 * * ? *)', enabled: false } });
    expect(disabled.status).toBe(200);
    expect(disabled.body.data).toMatchObject({ expression: 'cron(30 6 * * ? *)', enabled: false, revision: 2, next_runs: [] });
    expect(armedKeys()).not.toContain(key);
    const enabled = await api.call<Schedule>('PUT', path, { body: { enabled: true } });
    expect(enabled.body.data.revision).toBe(3);
    expect(enabled.body.data.next_runs).toHaveLength(5);
    for (const time of enabled.body.data.next_runs) expect(new Date(time).getUTCHours()).toBe(berlinSummer(new Date(time)) ? 4 : 5);
    expect(armedKeys()).toContain(key);

    const deleted = await api.call('DELETE', path);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toEqual({ deleted: true, schedule_id: created.schedule_id });
    expect((await api.call('GET', path)).status).toBe(404);
    expect(armedKeys()).not.toContain(key);
  });

  it('refuses a malformed cron, an unknown time zone, parameters the workflow requires, and an unknown overlap policy', async () => {
    const workflowId = await createWorkflow(hitWorkflow('invalid schedules'));
    const refused = async (body: Record<string, unknown>) => {
      const reply = await api.call('POST', `/workflows/${workflowId}/schedules`, { body });
      expect(reply.status, JSON.stringify(reply.body)).toBe(400);
      return reply.body.details ?? [];
    };
    const cron = await refused({ expression: 'cron(0 9 * *)', parameters: { label: 'x' } });
    expect(cron).toContainEqual({ field: 'expression', message: expect.stringMatching(/6 fields.*minutes hours day-of-month month day-of-week year/) });
    expect(await refused({ expression: 'rate(1 hour)', timezone: 'Mars/Olympus', parameters: { label: 'x' } })).toContainEqual(expect.objectContaining({ field: 'timezone' }));
    expect(await refused({ expression: 'rate(1 hour)', parameters: {} })).toContainEqual(expect.objectContaining({ field: 'parameters.label' }));
    expect((await refused({ expression: 'rate(1 hour)', parameters: { label: 'x' }, overlap_policy: 'queue' })).map((detail) => detail.field)).toContain('overlap_policy');
    expect((await api.call<{ count: number }>('GET', `/workflows/${workflowId}/schedules`)).body.data.count).toBe(0);
  });

  it('starts a run at the time of an at(...) schedule, started by the schedule, within a second of its time', async () => {
    const workflowId = await createWorkflow(hitWorkflow('timed'));
    const schedule = await createSchedule(workflowId, { expression: atIn(2000), parameters: { label: 'timed' } });
    expect(schedule.next_runs).toHaveLength(1);
    const path = `/workflows/${workflowId}/schedules/${schedule.schedule_id}`;
    let read: ApiReply<Schedule> | undefined;
    await until(async () => {
      read = await api.call<Schedule>('GET', path);
      return read.body.data.last_firing !== undefined;
    }, 'the schedule to fire', 8000, 50);
    const firing = read!.body.data.last_firing!;
    expect(firing).toMatchObject({ trigger: 'schedule', outcome: 'started', due_at: schedule.next_runs[0] });
    const run = await api.call('GET', `/workflows/executions/${firing.execution_id!}`);
    expect(run.body.data.started_by).toBe(`schedule:${schedule.schedule_id}`);
    await until(() => target.requests.some((request) => (request.body as { label?: string }).label === 'timed'), 'the run to call the target', 10_000, 25);
    const fired = api.runtime.scheduler.firings.filter((entry) => entry.key === `schedule:${workflowId}:${schedule.schedule_id}`);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.due_at).toBe(schedule.next_runs[0]);
    expect(fired[0]!.drift_ms).toBeGreaterThanOrEqual(0);
    expect(fired[0]!.drift_ms).toBeLessThan(1000);
    // at(...) fires once: nothing is armed after it.
    expect(read!.body.data.next_runs).toEqual([]);
  });

  it('starts a run now on trigger, whatever its times', async () => {
    const workflowId = await createWorkflow(hitWorkflow('triggered'));
    const schedule = await createSchedule(workflowId, { expression: FAR, parameters: { label: 'by hand' }, enabled: false });
    const reply = await trigger(workflowId, schedule.schedule_id);
    expect(reply.status).toBe(202);
    expect(reply.body.data.firing).toMatchObject({ trigger: 'manual', outcome: 'started' });
    expect(reply.body.data.execution?.execution_id).toBe(reply.body.data.firing.execution_id);
    await until(() => target.requests.some((request) => (request.body as { label?: string }).label === 'by hand'), 'the triggered run to call the target', 10_000, 25);
  });

  it('skip: refuses a second firing with 409 while the first run is still going, which goes on', async () => {
    const workflowId = await createWorkflow(slowWorkflow('skip'));
    const schedule = await createSchedule(workflowId, { expression: FAR, overlap_policy: 'skip' });
    const first = (await trigger(workflowId, schedule.schedule_id)).body.data.execution!.execution_id;
    await running(first);
    const second = await trigger(workflowId, schedule.schedule_id);
    expect(second.status).toBe(409);
    expect(second.body.details).toContainEqual(expect.objectContaining({ field: 'overlap_policy' }));
    expect(await statusOf(first)).toBe('running');
    const runs = await api.call<{ count: number }>('GET', `/workflows/${workflowId}/executions`);
    expect(runs.body.data.count).toBe(1);
    await cancel(first);
  });

  it('cancel_previous: cancels the run still going, then starts a new one', async () => {
    const workflowId = await createWorkflow(slowWorkflow('cancel previous'));
    const schedule = await createSchedule(workflowId, { expression: FAR, overlap_policy: 'cancel_previous' });
    const first = (await trigger(workflowId, schedule.schedule_id)).body.data.execution!.execution_id;
    await running(first);
    const second = await trigger(workflowId, schedule.schedule_id);
    expect(second.status).toBe(202);
    expect(second.body.data.firing).toMatchObject({ outcome: 'started', cancelled_execution_id: first });
    const next = second.body.data.execution!.execution_id;
    expect(next).not.toBe(first);
    await until(async () => (await statusOf(first)) === 'cancelled', `run ${first} to be cancelled`, 10_000, 25);
    await running(next);
    await cancel(next);
  });

  it('allow: runs a second firing alongside the first', async () => {
    const workflowId = await createWorkflow(slowWorkflow('allow'));
    const schedule = await createSchedule(workflowId, { expression: FAR, overlap_policy: 'allow' });
    const first = (await trigger(workflowId, schedule.schedule_id)).body.data.execution!.execution_id;
    await running(first);
    const second = await trigger(workflowId, schedule.schedule_id);
    expect(second.status).toBe(202);
    expect(second.body.data.firing.cancelled_execution_id).toBeUndefined();
    const next = second.body.data.execution!.execution_id;
    await running(next);
    expect([await statusOf(first), await statusOf(next)]).toEqual(['running', 'running']);
    await cancel(first, next);
  });

  it("removes a workflow's schedules, timers and items, when the workflow is deleted", async () => {
    const workflowId = await createWorkflow(hitWorkflow('doomed'));
    const schedule = await createSchedule(workflowId, { expression: 'rate(1 hour)' });
    const key = `schedule:${workflowId}:${schedule.schedule_id}`;
    expect(armedKeys()).toContain(key);
    const deleted = await api.call('DELETE', `/workflows/${workflowId}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.message).toContain('1 schedule');
    expect(armedKeys()).not.toContain(key);
    expect((await api.call('GET', `/workflows/${workflowId}/schedules`)).status).toBe(404);
    const store = new DynamoScheduleStore(api.runtime.documentClient, workflowsTableName);
    expect(await store.get(workflowId, schedule.schedule_id)).toBeUndefined();
    expect(await store.listByWorkflow(workflowId)).toEqual([]);
  });

  it('arms the stored schedules again when a new runtime starts on the same tables', async () => {
    const workflowId = await createWorkflow(hitWorkflow('persisted'));
    const schedule = await createSchedule(workflowId, { expression: 'cron(0 9 ? * MON-FRI *)', timezone: 'Europe/Berlin' });
    const key = `schedule:${workflowId}:${schedule.schedule_id}`;
    await api.runtime.close();
    api = await start();
    const armed = api.runtime.scheduler.armed().find((entry) => entry.key === key);
    expect(armed?.due_at).toBe(schedule.next_runs[0]);
    expect((await api.call<Schedule>('GET', `/workflows/${workflowId}/schedules/${schedule.schedule_id}`)).body.data.next_runs).toEqual(schedule.next_runs);
  });
});

describe('a schedule read at a fixed time', () => {
  /** The API's clock stands still at `now`: next_runs are computed from it (no timer fires: the times are hours away). */
  const apiAt = (now: string) => startTestApi({ clock: { now: () => now } });

  it.each([
    ['in summer', '2027-06-15T00:00:00.000Z', ['2027-06-15T07:00:00.000Z', '2027-06-16T07:00:00.000Z', '2027-06-17T07:00:00.000Z', '2027-06-18T07:00:00.000Z', '2027-06-21T07:00:00.000Z']],
    [
      'across the spring change (Sunday 28 March 2027)',
      '2027-03-25T00:00:00.000Z',
      ['2027-03-25T08:00:00.000Z', '2027-03-26T08:00:00.000Z', '2027-03-29T07:00:00.000Z', '2027-03-30T07:00:00.000Z', '2027-03-31T07:00:00.000Z'],
    ],
  ])('lists the next weekday 09:00 Berlin times %s', async (_when, now, expected) => {
    const api = await apiAt(now);
    try {
      const workflow = await api.call('POST', '/workflows', { body: { name: 'weekday', actions: [{ action_id: 'note', action_type: 'transform', config: { output: {} } }] } });
      const created = await api.call<Schedule>('POST', `/workflows/${String(workflow.body.data.workflow_id)}/schedules`, { body: { expression: 'cron(0 9 ? * MON-FRI *)', timezone: 'Europe/Berlin' } });
      expect(created.status).toBe(201);
      expect(created.body.data.next_runs).toEqual(expected);
    } finally {
      await api.runtime.close();
    }
  });
});
