import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogEntry } from '../../../../core/ports.ts';
import { currentLogContext, withLogContext } from '../../../../functions/observability/log-context.ts';
import { createLogger, type LoggerOptions } from '../../../../functions/observability/logger.ts';
import type { LogShipper, ShippedLog } from '../../../../functions/observability/log-shipper.ts';

/** A logger whose JSON lines are captured, parsed. */
function capture(options: Omit<LoggerOptions, 'destination'> = {}) {
  const lines: string[] = [];
  const log = createLogger({ ...options, destination: (line) => lines.push(line) });
  return { log, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the logger', () => {
  it('writes one JSON line per entry with level, timestamp, service, message and the fields', () => {
    const { log, lines, parsed } = capture();
    log({ level: 'warn', message: 'circuit opened', instance_id: 'i-1', failures: 3 });
    log({ kind: 'dead_letter', queue_url: 'q' });
    expect(lines).toHaveLength(2);
    const [first, second] = parsed();
    expect(first).toMatchObject({ level: 'WARN', service: 'orchestrator', message: 'circuit opened', instance_id: 'i-1', failures: 3 });
    expect(new Date(first!.timestamp as string).toISOString()).toBe(first!.timestamp);
    // No level: info. A `kind` and no message: the kind is the message, and stays a field.
    expect(second).toMatchObject({ level: 'INFO', message: 'dead_letter', kind: 'dead_letter' });
  });

  it('keeps a field Powertools reserves for itself, renamed, without a warning line', () => {
    const { log, parsed } = capture({ service: 'orchestrator-test' });
    log({ level: 'warn', message: 'could not record a call outcome', service: 'billing', timestamp: 't0' });
    expect(parsed()).toEqual([expect.objectContaining({ service: 'orchestrator-test', target_service: 'billing', entry_timestamp: 't0' })]);
  });

  it('adds the context set by withLogContext to every line, across awaits, nested, and never mixes two concurrent contexts', async () => {
    const { log, parsed } = capture();
    const work = async (id: string, delays: number[]) =>
      withLogContext({ request_id: `req-${id}`, trace_id: `trace-${id}`, tenant: `tenant-${id}` }, async () => {
        for (const delay of delays) {
          await sleep(delay);
          log({ message: `step of ${id}` });
        }
        await withLogContext({ execution_id: `exec-${id}`, action_id: `act-${id}` }, async () => {
          await sleep(1);
          log({ message: `action of ${id}` });
        });
        log({ message: `after the action of ${id}` });
      });
    await Promise.all([work('a', [5, 1, 5]), work('b', [1, 5, 1])]);
    log({ message: 'outside' });
    const lines = parsed();
    expect(lines).toHaveLength(11);
    for (const line of lines.slice(0, -1)) {
      const id = /of (\w)$/.exec(line.message as string)![1];
      expect(line).toMatchObject({ request_id: `req-${id}`, trace_id: `trace-${id}`, tenant: `tenant-${id}` });
      if ((line.message as string).startsWith('action')) expect(line).toMatchObject({ execution_id: `exec-${id}`, action_id: `act-${id}` });
      else expect(line).not.toHaveProperty('execution_id');
    }
    expect(lines.at(-1)).not.toHaveProperty('request_id');
    expect(currentLogContext()).toEqual({});
  });

  it('lets an entry\'s own id win over the context\'s, and an undefined field keeps the outer value', () => {
    const { log, parsed } = capture();
    withLogContext({ execution_id: 'outer', tenant: 't' }, () => withLogContext({ execution_id: undefined, action_id: 'a' }, () => log({ message: 'x', execution_id: 'own' })));
    withLogContext({ execution_id: 'outer' }, () => withLogContext({ execution_id: undefined }, () => log({ message: 'y' })));
    expect(parsed()).toEqual([expect.objectContaining({ execution_id: 'own', tenant: 't', action_id: 'a' }), expect.objectContaining({ execution_id: 'outer' })]);
  });

  it('honours its level: warn drops debug and info, debug keeps all, silent writes nothing', () => {
    const write = (log: (entry: LogEntry) => void) => {
      for (const level of ['debug', 'info', 'warn', 'error'] as const) log({ level, message: level });
      log({ message: 'no level' });
    };
    const warn = capture({ level: 'warn' });
    write(warn.log);
    expect(warn.parsed().map((line) => line.level)).toEqual(['WARN', 'ERROR']);
    const debug = capture({ level: 'debug' });
    write(debug.log);
    expect(debug.parsed().map((line) => line.level)).toEqual(['DEBUG', 'INFO', 'WARN', 'ERROR', 'INFO']);
    const silent = capture({ level: 'silent' });
    write(silent.log);
    expect(silent.lines).toEqual([]);
    const byDefault = capture();
    write(byDefault.log);
    expect(byDefault.parsed().map((line) => line.level)).toEqual(['INFO', 'WARN', 'ERROR', 'INFO']);
  });

  it('uses its level option, not POWERTOOLS_LOG_LEVEL or LOG_LEVEL from the environment', () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    vi.stubEnv('LOG_LEVEL', 'DEBUG');
    const { log, parsed } = capture({ level: 'error' });
    log({ level: 'debug', message: 'd' });
    log({ level: 'warn', message: 'w' });
    log({ level: 'error', message: 'e' });
    expect(parsed().map((line) => line.message)).toEqual(['e']);
  });

  it('redacts every line: sensitive keys, Bearer tokens, known secrets, URL userinfo, in the message, the fields and the context', () => {
    const secrets = {
      header: 'hdr-Zq81Lk0v',
      cookie: 'ck-Uv29Xw11',
      apiKey: 'ak-Pp37Rr55',
      password: 'pw-Mm90Nn12',
      clientSecret: 'cs-Tt64Yy33',
      refresh: 'rt-Gg12Hh34',
      jwt: 'eyJ0.eyJz.sig-Ab12',
      privateKey: 'pk-Ee45Ff67',
      webhook: 'wh-Cc89Dd01',
      bearer: 'bt-Kk23Ll45.Qq',
      known: 'known-Secret-Vv56Ww78',
      userinfo: 'ui-Ss90Jj12',
      contextToken: 'ctx-Ii34Oo56',
    };
    const { log, lines } = capture({ secrets: [secrets.known] });
    withLogContext({ request_id: 'req-1', route: `GET /x?token=${secrets.contextToken}` }, () => {
      log({
        level: 'error',
        message: `call failed: Bearer ${secrets.bearer} refused; key ${secrets.known} rejected`,
        headers: { Authorization: secrets.header, Cookie: secrets.cookie, 'X-Api-Key': secrets.apiKey },
        body: { user: 'bob', password: secrets.password, client_secret: secrets.clientSecret, refresh_token: secrets.refresh, jwt: secrets.jwt, private_key: secrets.privateKey },
        subscription: { webhook_secret: secrets.webhook },
        url: `https://bob:${secrets.userinfo}@api.example.com/v1`,
        detail: `the configured value was ${secrets.known}!`,
        error: new Error(`upstream echoed Bearer ${secrets.bearer}`),
      });
    });
    expect(lines).toHaveLength(1);
    for (const [what, secret] of Object.entries(secrets)) expect(lines[0], what).not.toContain(secret);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ request_id: 'req-1', headers: { Authorization: '***', Cookie: '***', 'X-Api-Key': '***' }, url: 'https://***@api.example.com/v1', body: { user: 'bob' } });
    expect(line.message).toBe('call failed: Bearer *** refused; key *** rejected');
  });

  it('keeps a huge entry small', () => {
    const { log, lines } = capture();
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 1000; i++) deep = { child: deep };
    log({ message: 'm'.repeat(1_000_000), body: 'b'.repeat(5_000_000), items: Array.from({ length: 100_000 }, (_, i) => ({ i })), deep });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeLessThan(64 * 1024);
  });

  it('never throws at its caller, even when its output fails or a field cannot be read', () => {
    const log = createLogger({ destination: () => { throw new Error('disk full'); } });
    const hostile = { get boom(): string { throw new Error('getter'); } };
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(() => log({ message: 'x' })).not.toThrow();
      expect(() => capture().log({ message: 'y', hostile })).not.toThrow();
    } finally {
      stderr.mockRestore();
    }
  });

  it('hands each written line to its collector, redacted, as the collector receives it; its own reports stay local', async () => {
    const enqueued: ShippedLog[] = [];
    let report: ((entry: LogEntry) => void) | undefined;
    const collector: LogShipper = {
      enqueue: (item) => enqueued.push(item),
      flush: async () => undefined,
      close: async () => undefined,
      stats: () => ({ shipped: 0, dropped: 0, failed_batches: 0 }),
      reportTo: (next) => { report = next; },
    };
    const { log, parsed } = capture({ level: 'info', collector });
    withLogContext({ request_id: 'req-9', tenant: 'acme' }, () => log({ level: 'error', message: 'boom with Bearer tok-Xx99Yy88', attempt: 2 }));
    log({ level: 'debug', message: 'dropped by the level' });
    expect(enqueued).toEqual([{ service: 'orchestrator', level: 'ERROR', message: 'boom with Bearer ***', timestamp: expect.any(String), context: { request_id: 'req-9', tenant: 'acme', attempt: 2 } }]);
    expect(report).toBeDefined();
    report!({ level: 'warn', message: 'log collector unavailable' });
    expect(enqueued).toHaveLength(1);
    expect(parsed().map((line) => line.message)).toEqual(['boom with Bearer ***', 'log collector unavailable']);
    // Shipping resumes for the lines after a report.
    log({ message: 'next' });
    expect(enqueued.map((item) => item.message)).toEqual(['boom with Bearer ***', 'next']);
    await log.flush();
  });
});
