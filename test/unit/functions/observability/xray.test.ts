import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { lazyXrayTracer, withXraySubsegment, type XraySubsegment } from '../../../../functions/observability/xray.ts';

/**
 * The X-Ray subsegments of the action runner, sent by the real Powertools Tracer (and the X-Ray SDK under it)
 * to a UDP socket on loopback standing in for the daemon, with the environment Lambda gives a function with
 * active tracing.
 */
const LAMBDA_ENVIRONMENT = {
  LAMBDA_TASK_ROOT: '/var/task',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_FUNCTION_NAME: 'action-runner',
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
};
let daemon: Socket;
let daemonAddress: string;
const received: Record<string, unknown>[] = [];
const saved = new Map<string, string | undefined>();

beforeAll(async () => {
  daemon = createSocket('udp4');
  // Each datagram is a JSON header line, then the segment document.
  daemon.on('message', (message) => received.push(JSON.parse(message.toString().split('\n')[1] ?? '{}') as Record<string, unknown>));
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  daemonAddress = `127.0.0.1:${daemon.address().port}`;
  for (const [name, value] of Object.entries({ ...LAMBDA_ENVIRONMENT, AWS_XRAY_DAEMON_ADDRESS: daemonAddress })) {
    saved.set(name, process.env[name]);
    process.env[name] = value;
  }
});
afterAll(() => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  daemon.close();
});

const describeCall = (event: { service: string; execution_id: string }): XraySubsegment => ({ name: `service_call ${event.service}`, annotations: { service: event.service, execution_id: event.execution_id, tenant: undefined } });

describe('X-Ray subsegments (Powertools Tracer)', () => {
  it("records each call as a subsegment of Lambda's segment, annotated with the run and the service", async () => {
    const handler = withXraySubsegment(async (event: { service: string; execution_id: string }) => `called ${event.service}`, describeCall, lazyXrayTracer({ enabled: true, daemonAddress, serviceName: 'action-runner' }));
    await expect(handler({ service: 'billing', execution_id: 'exec-1' })).resolves.toBe('called billing');
    await vi.waitFor(() => expect(received.find((segment) => segment['name'] === 'service_call billing')).toBeDefined());
    expect(received.find((segment) => segment['name'] === 'service_call billing')).toMatchObject({
      type: 'subsegment',
      trace_id: '1-5759e988-bd862e3fe1be46a994272793',
      parent_id: '53995c3f42cd8ad8',
      annotations: { service: 'billing', execution_id: 'exec-1' },
    });
  });

  it('attaches the error of a call that throws, and still throws it', async () => {
    const handler = withXraySubsegment(
      (event: { service: string; execution_id: string }) => Promise.reject(new Error(`${event.service} refused`)),
      describeCall,
      lazyXrayTracer({ enabled: true, daemonAddress, serviceName: 'action-runner' }),
    );
    await expect(handler({ service: 'ledger', execution_id: 'exec-2' })).rejects.toThrow('ledger refused');
    await vi.waitFor(() => expect(received.find((segment) => segment['name'] === 'service_call ledger')).toBeDefined());
    expect(JSON.stringify(received.find((segment) => segment['name'] === 'service_call ledger'))).toContain('ledger refused');
  });

  it('sends nothing when tracing is switched off or the function has no active tracing', async () => {
    for (const settings of [{ enabled: false, daemonAddress }, { enabled: true, daemonAddress: undefined }]) {
      const handler = withXraySubsegment(async (event: { service: string; execution_id: string }) => event.service, describeCall, lazyXrayTracer({ ...settings, serviceName: 'action-runner' }));
      await expect(handler({ service: 'untraced', execution_id: 'exec-3' })).resolves.toBe('untraced');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received.filter((segment) => segment['name'] === 'service_call untraced')).toEqual([]);
  });
});
