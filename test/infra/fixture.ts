import { join } from 'node:path';
import { App, CfnElement, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Template } from 'aws-cdk-lib/assertions';
import cdkJson from '../../cdk.json' with { type: 'json' };
import { defineOrchestrator, type OrchestratorStacks } from '../../infra/orchestrator.ts';
import { observabilityEnvironment, readObservabilityContext } from '../../infra/observability-context.ts';

/**
 * Helpers shared by the infra tests: build the app exactly as `cdk synth` does (same feature flags from
 * cdk.json, same nag checks), minus bundling, and read the synthesized CloudFormation as typed JSON.
 */

/**
 * Context key that lists the stacks to bundle assets for; empty means none. Only bundled-synth.test.ts runs
 * esbuild; every other test skips it.
 */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as const;

/**
 * The observability variables every function gets with the default context (infra/observability-context.ts;
 * observability.test.ts checks their values): tests that list a function's whole environment add these.
 */
export const OBSERVABILITY_VARIABLES: readonly string[] = Object.keys(observabilityEnvironment(readObservabilityContext(() => undefined, () => undefined)));

/** ...and those of a function that records spans (ApiFunction `spansTable`). */
export const SPAN_RECORDING_VARIABLES: readonly string[] = ['ORCHESTRATOR_SPAN_RETENTION_DAYS', 'SPANS_TABLE_NAME'];

/** Every stack, nested ones included: what `cdk synth` does. */
export const BUNDLE_EVERY_STACK = { 'aws:cdk:bundling-stacks': ['**'] } as const;

export function cdkJsonContext(): Record<string, unknown> {
  return { ...cdkJson.context };
}

/** `outdir`: where the cloud assembly goes; by default a temporary directory CDK picks. */
/** A built console's stand-in (index.html and one asset), so that infra tests need no `npm run build:console`. */
export const CONSOLE_FIXTURE = { consoleAssets: join(import.meta.dirname, 'fixtures', 'console') } as const;

export function buildOrchestratorApp(context: Record<string, unknown> = {}, options: { outdir?: string } = {}): { app: App } & OrchestratorStacks {
  const app = new App({ ...(options.outdir === undefined ? {} : { outdir: options.outdir }), context: { ...cdkJsonContext(), ...SKIP_BUNDLING, ...CONSOLE_FIXTURE, ...context } });
  return { app, ...defineOrchestrator(app) };
}

/** Logical ID of an L1 element (or of an L2's default child) in its stack. */
export function logicalIdOf(stack: Stack, construct: IConstruct | undefined): string {
  const element = construct !== undefined && !CfnElement.isCfnElement(construct) ? construct.node.defaultChild : construct;
  if (element === undefined || !CfnElement.isCfnElement(element)) throw new Error(`not a CloudFormation element: ${construct?.node.path ?? 'undefined'}`);
  return stack.getLogicalId(element);
}

export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: readonly string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface CfnTemplateJson {
  readonly Resources: Record<string, CfnResourceJson>;
  readonly Outputs?: Record<string, { readonly Value: unknown }>;
}

export function templateOf(stack: Stack): CfnTemplateJson {
  const json: unknown = Template.fromStack(stack).toJSON();
  const template = asRecord(json, stack.node.path);
  return { Resources: asRecord(template['Resources'], 'Resources') as Record<string, CfnResourceJson>, Outputs: template['Outputs'] as CfnTemplateJson['Outputs'] };
}

export function resourcesOfType(template: CfnTemplateJson, type: string): Array<[string, CfnResourceJson]> {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

export function propertiesOf(resource: CfnResourceJson): Record<string, unknown> {
  return resource.Properties ?? {};
}

export function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what}: expected an object, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

export function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected an array, got ${JSON.stringify(value)}`);
  return value;
}

/** `{ Ref: X }` -> `X`. */
export function refTarget(value: unknown, what: string): string {
  const target = asRecord(value, what)['Ref'];
  if (typeof target !== 'string') throw new Error(`${what}: expected a Ref, got ${JSON.stringify(value)}`);
  return target;
}

/** Every logical ID named by a `Fn::GetAtt` anywhere inside a value. */
export function getAttTargets(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(getAttTargets);
  if (typeof value !== 'object' || value === null) return [];
  const record = value as Record<string, unknown>;
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return [getAtt[0]];
  return Object.values(record).flatMap(getAttTargets);
}

/** Policy statements, normalized: Action and Resource always arrays. */
export interface StatementJson {
  readonly Effect: string;
  readonly Action: readonly string[];
  readonly Resource: readonly unknown[];
}

export function statementsOf(policy: CfnResourceJson): StatementJson[] {
  const document = asRecord(propertiesOf(policy)['PolicyDocument'], 'PolicyDocument');
  return asArray(document['Statement'], 'Statement').map((raw) => {
    const statement = asRecord(raw, 'Statement');
    const action = statement['Action'];
    const resource = statement['Resource'];
    return {
      Effect: String(statement['Effect']),
      Action: (Array.isArray(action) ? action : [action]).map(String),
      Resource: Array.isArray(resource) ? resource : [resource],
    };
  });
}

/** Every statement of every policy attached to the role with logical ID `roleId`, normalised and sorted. */
export function statementsOfRole(source: CfnTemplateJson, roleId: string): StatementJson[] {
  return resourcesOfType(source, 'AWS::IAM::Policy')
    .filter(([, policy]) => asArray(propertiesOf(policy)['Roles'], 'Roles').some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })))
    .flatMap(([, policy]) => statementsOf(policy))
    .map((statement) => ({ ...statement, Action: [...statement.Action].sort() }));
}
