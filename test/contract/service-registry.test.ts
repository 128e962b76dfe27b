import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createDocumentClient } from '../../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../../adapters/aws/dynamo/dynamo-service-registry.ts';
import { REGISTRY_TABLE } from '../../adapters/aws/dynamo/registry-table.ts';
import type { ServiceRegistry } from '../../core/ports.ts';
import type { ServiceRegistration } from '../../core/registry/model.ts';
import { ensureTable } from '../../local/tables.ts';

function registration(name: string, overrides: Partial<ServiceRegistration> = {}): ServiceRegistration {
  return {
    name,
    url: `http://${name.replace(/[^a-z0-9-]/gi, '-')}.internal:8080`,
    health_path: '/health',
    openapi_path: '/openapi.json',
    version: '1.2.3',
    metadata: { team: 'analysis', tags: ['a', 'b'], limits: { rps: 10 } },
    registered_at: '2026-11-01T00:00:00.000Z',
    updated_at: '2026-11-01T00:00:00.000Z',
    ...overrides,
  };
}

/** The ServiceRegistry contract, run against the DynamoDB adapter on the dynalite emulator. */
describe('DynamoServiceRegistry on the DynamoDB emulator', () => {
  let registry: ServiceRegistry;
  let commands: string[];

  beforeEach(async () => {
    const client = createDocumentClient({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    commands = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(context.commandName ?? 'unknown');
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
    const tableName = `registry-${randomUUID()}`;
    await ensureTable(client, REGISTRY_TABLE, tableName);
    commands.length = 0;
    registry = new DynamoServiceRegistry(client, tableName);
  });

  it('round-trips a registration exactly, metadata included', async () => {
    const service = registration('analysis_service');
    expect(await registry.register(service)).toEqual({ service, created: true });
    expect(await registry.get('analysis_service')).toEqual(service);
  });

  it('returns undefined for a name nobody registered', async () => {
    await registry.register(registration('known'));
    expect(await registry.get('unknown')).toBeUndefined();
    expect(await registry.get('KNOWN')).toBeUndefined();
  });

  it('replaces a registration of the same name, keeping when it was first registered', async () => {
    await registry.register(registration('svc'));
    const replacement = registration('svc', { url: 'https://svc.example.com', version: '2.0.0', metadata: { team: 'other' }, registered_at: '2026-11-05T00:00:00.000Z', updated_at: '2026-11-05T00:00:00.000Z' });
    const outcome = await registry.register(replacement);
    expect(outcome.created).toBe(false);
    const expected = { ...replacement, registered_at: '2026-11-01T00:00:00.000Z' };
    expect(outcome.service).toEqual(expected);
    expect(await registry.get('svc')).toEqual(expected);
  });

  it('drops optional fields the replacement no longer has', async () => {
    await registry.register(registration('svc'));
    const { openapi_path: _openapi, version: _version, ...bare } = registration('svc', { metadata: {} });
    await registry.register(bare);
    const stored = await registry.get('svc');
    expect(stored).toEqual({ ...bare, metadata: {} });
    expect(stored).not.toHaveProperty('openapi_path');
    expect(stored).not.toHaveProperty('version');
  });

  it('registers in one write: no read before it', async () => {
    await registry.register(registration('svc'));
    await registry.register(registration('svc'));
    expect(commands).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
  });

  it('lets exactly one of many concurrent first registrations of a name be the creation', async () => {
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, index) => registry.register(registration('raced', { version: String(index) }))));
    expect(outcomes.filter((outcome) => outcome.created)).toHaveLength(1);
    expect((await registry.list()).map((service) => service.name)).toEqual(['raced']);
  });

  it('lists every registration by name with a Query on the listing index, never a Scan', async () => {
    for (const name of ['zeta', 'alpha', 'mid.service', 'beta-2']) await registry.register(registration(name));
    commands.length = 0;
    const listed = await registry.list();
    expect(listed.map((service) => service.name)).toEqual(['alpha', 'beta-2', 'mid.service', 'zeta']);
    expect(listed[0]).toEqual(registration('alpha'));
    expect(commands.length).toBeGreaterThan(0);
    expect(commands.every((command) => command === 'QueryCommand')).toBe(true);
  });

  it('lists an empty registry as an empty list', async () => {
    expect(await registry.list()).toEqual([]);
  });

  it('pages through listings larger than one DynamoDB page (1 MB)', async () => {
    const bulky = { notes: 'x'.repeat(15_000) };
    const names = Array.from({ length: 80 }, (_, index) => `svc-${String(index).padStart(3, '0')}`);
    for (let start = 0; start < names.length; start += 10) {
      await Promise.all(names.slice(start, start + 10).map((name) => registry.register(registration(name, { metadata: bulky }))));
    }
    commands.length = 0;
    const listed = await registry.list();
    expect(listed.map((service) => service.name)).toEqual(names);
    expect(commands.length).toBeGreaterThan(1);
  });
});
