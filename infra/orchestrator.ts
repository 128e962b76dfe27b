import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EXECUTION_TABLE } from '../adapters/aws/dynamo/execution-table.ts';
import { REGISTRY_TABLE } from '../adapters/aws/dynamo/registry-table.ts';
import { WORKFLOW_TABLE } from '../adapters/aws/dynamo/workflow-table.ts';
import packageJson from '../package.json' with { type: 'json' };
import { ApiStack } from './stacks/api-stack.ts';
import { DataStack } from './stacks/data-stack.ts';
import { RuntimeStack } from './stacks/runtime-stack.ts';

export const PROJECT_TAG = { key: 'project', value: 'serverless-orchestrator' } as const;
export const DEFAULT_STACK_PREFIX = 'Orchestrator';

export interface OrchestratorStacks {
  readonly data: DataStack;
  readonly api: ApiStack;
  readonly runtime: RuntimeStack;
}

/**
 * Defines the whole deployment on an app: the data stack, the API stack, and the cdk-nag AwsSolutions checks
 * (an unacknowledged finding fails synthesis). `infra/app.ts` and the infra tests both build it from here, so
 * the tests check what gets deployed.
 *
 * Context (`cdk synth -c key=value`):
 * - `stackPrefix` (default `Orchestrator`): stacks are `<prefix>Data` and `<prefix>Api`, so several copies can
 *   live in one account (one per developer, per branch).
 * - `retainData` (default `true`): `false` lets a throwaway copy delete its tables with the stack.
 *
 * The stacks are environment-agnostic: the account and region come from the CLI's credentials at deploy time.
 */
export function defineOrchestrator(app: App): OrchestratorStacks {
  const stackPrefix = readStackPrefix(app);
  const retainData = readBooleanContext(app, 'retainData', true);
  // Stack tags: CloudFormation copies them onto every resource that supports tags, nested stacks included.
  const tags = { [PROJECT_TAG.key]: PROJECT_TAG.value };

  const data = new DataStack(app, `${stackPrefix}Data`, {
    description: 'Serverless orchestrator: tables',
    retainData,
    tags,
  });
  // Workflow state machines are named `<stackPrefix>-<workflow_id>`, so each copy of the app runs its own.
  const runtime = new RuntimeStack(app, `${stackPrefix}Runtime`, {
    description: 'Serverless orchestrator: workflow runtime (state machine role, action runner, status listener, event bus, dead letters)',
    namePrefix: stackPrefix,
    executionsTable: data.executionsTable,
    registryTable: data.registryTable,
    tags,
  });
  const api = new ApiStack(app, `${stackPrefix}Api`, {
    description: 'Serverless orchestrator: REST API and its Lambdas',
    workflowsTable: data.workflowsTable,
    workflowsTableIndexNames: WORKFLOW_TABLE.indexes.map((index) => index.indexName),
    registryTable: data.registryTable,
    registryTableIndexNames: REGISTRY_TABLE.indexes.map((index) => index.indexName),
    executionsTable: data.executionsTable,
    executionsTableIndexNames: EXECUTION_TABLE.indexes.map((index) => index.indexName),
    engine: runtime,
    serviceVersion: packageJson.version,
    tags,
  });

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { data, api, runtime };
}

function readStackPrefix(app: App): string {
  const value: unknown = app.node.tryGetContext('stackPrefix') ?? DEFAULT_STACK_PREFIX;
  // Stack names allow letters, digits and hyphens, starting with a letter; keep room for the suffixes.
  if (typeof value !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,99}$/.test(value)) {
    throw new Error(`context stackPrefix must be letters, digits and hyphens, starting with a letter; got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `-c key=false` arrives as the string 'false'; cdk.json and tests may pass a real boolean. */
function readBooleanContext(app: App, key: string, defaultValue: boolean): boolean {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return defaultValue;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key} must be true or false; got ${JSON.stringify(value)}`);
}
