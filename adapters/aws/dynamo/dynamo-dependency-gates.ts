import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { GateDeclarationError, gateProblem, gateReady, releaseOf, type GateRelease, type GateState } from '../../../core/execution/dependency-gates.ts';
import type { Clock, DependencyGates } from '../../../core/ports.ts';
import { executionKey } from './execution-table.ts';
import { dynamoCall, isConditionFailure, queryPages, WRITE_BATCH_SIZE, writeBatch } from './operations.ts';
import { parseItem } from './items.ts';

/**
 * Dependency gates on the executions table (ADR 0010): one item per waiting action in its run's item
 * collection, `pk EX#<id>`, `sk GATE#<waiter>`, which no index has keys for. Every report is one UpdateItem
 * that returns the gate as it is after it: producers are added to a string set (a redelivered report adds
 * nothing) with their outputs as JSON text in an attribute each (`o:<producer>`), the waiter's token is set.
 * Writes are serialized per item, so of the last producer's report and the waiter's, the later one sees the
 * gate complete; the release itself is claimed with one conditional write per token, so exactly one caller
 * gets it, however many saw the gate complete.
 */
const GATE_PREFIX = 'GATE#';
const OUTPUT_PREFIX = 'o:';

/** What one report changes besides declaring the gate's producers. */
interface GateUpdate {
  readonly add?: string;
  readonly set: readonly string[];
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
}

const GateItemSchema = z
  .object({
    /** The producers, sorted, space-separated (action ids have no spaces): a string, so the condition can compare it. */
    expected: z.string().min(1).transform((text) => text.split(' ')),
    arrived: z.set(z.string()).optional(),
    token: z.string().min(1).optional(),
    released_token: z.string().min(1).optional(),
    released_at: z.string().optional(),
    call: z.string().optional(),
  })
  .loose();

export class DynamoDependencyGates implements DependencyGates {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(client: DynamoDBDocumentClient, tableName: string, clock: Clock) {
    this.client = client;
    this.tableName = tableName;
    this.clock = clock;
  }

  async arrive(executionId: string, waiter: string, expected: readonly string[], producer: string, output: unknown): Promise<GateRelease | undefined> {
    const problem = gateProblem(undefined, expected, producer);
    if (problem) throw new GateDeclarationError(`gate of ${waiter} in run ${executionId}: ${problem}`);
    return this.report(executionId, waiter, expected, {
      add: '#arrived :producer',
      set: ['#output = if_not_exists(#output, :output)'],
      names: { '#arrived': 'arrived', '#output': `${OUTPUT_PREFIX}${producer}` },
      values: { ':producer': new Set([producer]), ':output': JSON.stringify(output ?? null) },
    });
  }

  async wait(executionId: string, waiter: string, expected: readonly string[], token: string, call?: unknown): Promise<GateRelease | undefined> {
    const problem = gateProblem(undefined, expected);
    if (problem) throw new GateDeclarationError(`gate of ${waiter} in run ${executionId}: ${problem}`);
    // A gated call's payload, as JSON text: it goes with the token, so the one released is the one to make.
    const withCall = call === undefined ? undefined : JSON.stringify(call);
    return this.report(executionId, waiter, expected, {
      set: ['#token = :token', ...(withCall === undefined ? [] : ['#call = :call'])],
      names: { '#token': 'token', ...(withCall === undefined ? {} : { '#call': 'call' }) },
      values: { ':token': token, ...(withCall === undefined ? {} : { ':call': withCall }) },
    });
  }

  /**
   * Deletes every gate of the run (`GATE#` items of its collection), page after page: at the run's end, so
   * that gates do not outlive it. A gate reported to after this starts afresh, and is never released.
   */
  async forget(executionId: string): Promise<void> {
    const pages = queryPages(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :gate)',
      ExpressionAttributeValues: { ':pk': executionKey(executionId).pk, ':gate': GATE_PREFIX },
      ProjectionExpression: 'pk, sk',
      ConsistentRead: true,
    });
    for await (const items of pages) {
      for (let index = 0; index < items.length; index += WRITE_BATCH_SIZE) {
        const batch = items.slice(index, index + WRITE_BATCH_SIZE).map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } }));
        await writeBatch(this.client, this.tableName, batch, 'dependency gates');
      }
    }
  }

  async reopen(executionId: string, waiter: string, token: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: gateKey(executionId, waiter),
          UpdateExpression: 'REMOVE released_token, released_at',
          ConditionExpression: 'released_token = :token',
          ExpressionAttributeValues: { ':token': token },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** One report: the update (declaring the gate's producers the first time), then the claim when it is complete. */
  private async report(executionId: string, waiter: string, expected: readonly string[], parts: GateUpdate): Promise<GateRelease | undefined> {
    const sorted = [...new Set(expected)].sort();
    const key = gateKey(executionId, waiter);
    let attributes: Record<string, unknown> | undefined;
    try {
      ({ Attributes: attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `${parts.add ? `ADD ${parts.add} ` : ''}SET ${['#expected = if_not_exists(#expected, :expected)', ...parts.set].join(', ')}`,
          // The same producers as the gate was declared with (the compiler writes one list into every state of it).
          ConditionExpression: 'attribute_not_exists(#expected) OR #expected = :expected',
          ExpressionAttributeNames: { ...parts.names, '#expected': 'expected' },
          ExpressionAttributeValues: { ...parts.values, ':expected': sorted.join(' ') },
          ReturnValues: 'ALL_NEW',
        }),
      ));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const stored = await this.read(key);
      throw new GateDeclarationError(`gate of ${waiter} in run ${executionId}: ${gateProblem(stored?.expected, sorted) ?? 'its producers changed'}`, { cause: error });
    }
    const state = stateOf(parseItem(GateItemSchema, attributes ?? {}, 'dependency gate'), attributes ?? {});
    return gateReady(state) ? this.claim(key, releaseOf(state)) : undefined;
  }

  /** Hands the release of `release.token` to this caller alone: the first conditional write wins, the others get nothing. */
  private async claim(key: { pk: string; sk: string }, release: GateRelease): Promise<GateRelease | undefined> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET released_token = :token, released_at = :at',
          ConditionExpression: '#token = :token AND (attribute_not_exists(released_token) OR released_token <> :token)',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': release.token, ':at': this.clock.now() },
        }),
      );
      return release;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  private async read(key: { pk: string; sk: string }): Promise<GateState | undefined> {
    const { Item } = await dynamoCall(() => this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })), '');
    return Item ? stateOf(parseItem(GateItemSchema, Item, 'dependency gate'), Item) : undefined;
  }
}

function gateKey(executionId: string, waiter: string): { pk: string; sk: string } {
  return { pk: executionKey(executionId).pk, sk: `${GATE_PREFIX}${waiter}` };
}

function stateOf(item: z.output<typeof GateItemSchema>, raw: Record<string, unknown>): GateState {
  const arrived: Record<string, unknown> = {};
  for (const producer of item.arrived ?? []) {
    const text = raw[`${OUTPUT_PREFIX}${producer}`];
    arrived[producer] = typeof text === 'string' ? (JSON.parse(text) as unknown) : null;
  }
  return {
    expected: item.expected,
    arrived,
    ...(item.token === undefined ? {} : { token: item.token }),
    ...(item.call === undefined ? {} : { call: JSON.parse(item.call) as unknown }),
    ...(item.released_token === undefined ? {} : { released: { token: item.released_token, at: item.released_at ?? '' } }),
  };
}
