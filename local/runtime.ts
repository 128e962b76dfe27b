import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoWorkflowStore } from '../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { WORKFLOW_TABLE } from '../adapters/aws/dynamo/workflow-table.ts';
import { randomIds, systemClock } from '../core/system.ts';
import type { Clock, IdGenerator } from '../core/ports.ts';
import { createWorkflowService } from '../core/workflow/service.ts';
import { createAllHandlers } from '../functions/http/index.ts';
import type { HttpServices } from '../functions/http/services.ts';
import { routes } from '../functions/routes.ts';
import { compilerCheck } from '../statemachines/compile.ts';
import { startDynalite, type RunningDynalite } from './dynalite.ts';
import { createLocalServer, listen } from './http-server.ts';
import { ensureTable } from './tables.ts';

export interface LocalRuntimeOptions {
  readonly port: number;
  readonly host: string;
  /** Where the emulator keeps its data; omitted = in memory (tests). */
  readonly dataDir?: string;
  /** An existing DynamoDB endpoint (a shared emulator, LocalStack); omitted = start an embedded dynalite. */
  readonly dynamoEndpoint?: string;
  readonly workflowsTableName: string;
  readonly region: string;
  readonly serviceVersion: string;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
}

export interface LocalRuntime {
  readonly url: string;
  readonly services: HttpServices;
  readonly documentClient: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/**
 * The whole orchestrator on one machine: the same handlers and DynamoDB adapter as in AWS, with the
 * emulator behind the adapter and a local HTTP server in front of the handlers.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  let dynalite: RunningDynalite | undefined;
  let endpoint = options.dynamoEndpoint;
  if (!endpoint) {
    const path = options.dataDir ? join(options.dataDir, 'dynamodb') : undefined;
    if (path) await mkdir(path, { recursive: true });
    dynalite = await startDynalite({ path });
    endpoint = dynalite.endpoint;
  }
  const documentClient = createDocumentClient({
    endpoint,
    region: options.region,
    // The emulator accepts any credentials; fixed ones keep the SDK from searching for real ones.
    credentials: options.dynamoEndpoint ? undefined : { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await ensureTable(documentClient, WORKFLOW_TABLE, options.workflowsTableName);
    const workflowStore = new DynamoWorkflowStore(documentClient, options.workflowsTableName);
    const services: HttpServices = {
      workflowStore,
      workflows: createWorkflowService({ store: workflowStore, clock: options.clock ?? systemClock, ids: options.ids ?? randomIds, compiler: compilerCheck }),
      serviceVersion: options.serviceVersion,
    };
    const server = await listen(createLocalServer({ routes, handlers: createAllHandlers(services) }), options.port, options.host);
    return {
      url: server.url,
      services,
      documentClient,
      close: async () => {
        await server.close();
        documentClient.destroy();
        await dynalite?.close();
      },
    };
  } catch (error) {
    documentClient.destroy();
    await dynalite?.close();
    throw error;
  }
}
