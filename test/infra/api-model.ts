import { routes, type BoundedContext, type RouteName } from '../../functions/routes.ts';
import type { OrchestratorStacks } from '../../infra/orchestrator.ts';
import type { ContextRoutesStack } from '../../infra/stacks/context-routes-stack.ts';
import {
  asArray,
  asRecord,
  getAttTargets,
  logicalIdOf,
  propertiesOf,
  refTarget,
  resourcesOfType,
  statementsOf,
  templateOf,
  type CfnResourceJson,
  type CfnTemplateJson,
  type StatementJson,
} from './fixture.ts';

/**
 * The deployed API as the synthesized templates describe it, with every cross-template reference followed:
 * a method's path is rebuilt from the parent stack's AWS::ApiGateway::Resource chain through the nested
 * stack's parameters, and its function from its integration URI. Tests assert on this, not on constructs.
 */

export interface ContextTemplate {
  readonly context: BoundedContext;
  readonly stack: ContextRoutesStack;
  readonly template: CfnTemplateJson;
}

export interface DeployedMethod {
  readonly context: BoundedContext;
  readonly httpMethod: string;
  readonly path: string;
  readonly properties: Record<string, unknown>;
  /** Logical ID, in the context's template, of the Lambda the method integrates. */
  readonly functionId: string;
  readonly template: CfnTemplateJson;
}

export interface DeployedFunction {
  readonly context: BoundedContext;
  readonly logicalId: string;
  readonly properties: Record<string, unknown>;
  readonly role: CfnResourceJson;
  readonly statements: StatementJson[];
  readonly template: CfnTemplateJson;
}

export interface ApiModel {
  readonly parent: CfnTemplateJson;
  readonly data: CfnTemplateJson;
  readonly contexts: readonly ContextTemplate[];
  readonly methods: readonly DeployedMethod[];
  readonly functions: readonly DeployedFunction[];
  /** Renders an ARN or name expression; references to the data stack become `<TableLogicalId.Arn>`... */
  render(expression: unknown): string;
}

export function readApiModel(stacks: OrchestratorStacks): ApiModel {
  const parent = templateOf(stacks.api);
  const data = templateOf(stacks.data);
  const contexts = [...stacks.api.contextStacks].map(([context, stack]) => ({ context, stack, template: templateOf(stack) }));
  const pathsByResourceId = resourcePaths(parent);

  const methods = contexts.flatMap(({ context, stack, template }) => {
    const parameters = nestedStackParameters(parent, logicalIdOf(stacks.api, stack.nestedStackResource));
    return resourcesOfType(template, 'AWS::ApiGateway::Method').map(([logicalId, resource]): DeployedMethod => {
      const properties = propertiesOf(resource);
      const parentResourceId = refTarget(parameters[refTarget(properties['ResourceId'], `${logicalId}.ResourceId`)], `parameter of ${logicalId}`);
      const path = pathsByResourceId.get(parentResourceId);
      if (path === undefined) throw new Error(`${logicalId}: resource ${parentResourceId} is not an API path resource`);
      const functionIds = getAttTargets(asRecord(properties['Integration'], `${logicalId}.Integration`)['Uri']);
      if (functionIds.length !== 1 || functionIds[0] === undefined) throw new Error(`${logicalId}: expected one function in the integration URI`);
      return { context, httpMethod: String(properties['HttpMethod']), path, properties, functionId: functionIds[0], template };
    });
  });

  const functions = contexts.flatMap(({ context, template }) =>
    resourcesOfType(template, 'AWS::Lambda::Function').map(([logicalId, resource]): DeployedFunction => {
      const properties = propertiesOf(resource);
      const roleId = getAttTargets(properties['Role'])[0] ?? '';
      const role = template.Resources[roleId];
      if (role === undefined) throw new Error(`${logicalId}: role ${roleId} not in the template`);
      const statements = resourcesOfType(template, 'AWS::IAM::Policy')
        .filter(([, policy]) => asArray(propertiesOf(policy)['Roles'], 'Roles').some((attached) => refTarget(attached, 'Roles') === roleId))
        .flatMap(([, policy]) => statementsOf(policy));
      return { context, logicalId, properties, role, statements, template };
    }),
  );

  const render = (expression: unknown): string => renderExpression(expression, stacks.data.stackName, data);
  return { parent, data, contexts, methods, functions, render };
}

/** The parameters the parent passes to a nested stack: parameter name -> expression in the parent. */
export function nestedStackParameters(parent: CfnTemplateJson, nestedStackResourceId: string): Record<string, unknown> {
  const resource = parent.Resources[nestedStackResourceId];
  if (resource === undefined) throw new Error(`nested stack resource ${nestedStackResourceId} not in the parent template`);
  return asRecord(propertiesOf(resource)['Parameters'] ?? {}, 'Parameters');
}

/** Full path of every AWS::ApiGateway::Resource, following ParentId up to the API's root resource. */
function resourcePaths(parent: CfnTemplateJson): Map<string, string> {
  const resources = new Map(resourcesOfType(parent, 'AWS::ApiGateway::Resource'));
  const paths = new Map<string, string>();
  const pathOf = (logicalId: string): string => {
    const known = paths.get(logicalId);
    if (known !== undefined) return known;
    const resource = resources.get(logicalId);
    if (resource === undefined) throw new Error(`${logicalId} is not an API path resource`);
    const properties = propertiesOf(resource);
    const parentId = asRecord(properties['ParentId'], `${logicalId}.ParentId`);
    // The root resource is `Fn::GetAtt: [RestApi, RootResourceId]`; any other parent is a Ref.
    const parentPath = 'Ref' in parentId ? pathOf(refTarget(parentId, logicalId)) : '';
    const path = `${parentPath}/${String(properties['PathPart'])}`;
    paths.set(logicalId, path);
    return path;
  };
  for (const logicalId of resources.keys()) pathOf(logicalId);
  return paths;
}

/**
 * A CloudFormation expression as a readable string: `Fn::Join` concatenated, `Ref`/`Fn::GetAtt` as
 * `<Ref X>`/`<X.Attr>`, and an output read from the data stack (`Fn::GetStackOutput` or `Fn::ImportValue`
 * of its export) replaced by that output's own value, so `<WorkflowsTable.Arn>` reads the same wherever it
 * is used.
 */
function renderExpression(expression: unknown, dataStackName: string, data: CfnTemplateJson): string {
  const render = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const record = asRecord(value, 'expression');
    if ('Ref' in record) return `<Ref ${String(record['Ref'])}>`;
    if ('Fn::GetAtt' in record) return `<${asArray(record['Fn::GetAtt'], 'Fn::GetAtt').map(String).join('.')}>`;
    if ('Fn::Join' in record) {
      const [separator, parts] = asArray(record['Fn::Join'], 'Fn::Join');
      return asArray(parts, 'Fn::Join parts').map(render).join(String(separator));
    }
    if ('Fn::GetStackOutput' in record) {
      const reference = asRecord(record['Fn::GetStackOutput'], 'Fn::GetStackOutput');
      // Outputs of other stacks (the runtime stack's engine role and resources) read as a named reference.
      if (reference['StackName'] !== dataStackName) return `<${String(reference['StackName'])}.${String(reference['OutputName'])}>`;
      return render(outputValue(String(reference['OutputName'])));
    }
    if ('Fn::ImportValue' in record) {
      const exportName = record['Fn::ImportValue'];
      const output = Object.values(data.Outputs ?? {}).find((candidate) => JSON.stringify(asRecord(candidate, 'output')['Export']) === JSON.stringify({ Name: exportName }));
      if (output === undefined) throw new Error(`no data stack export ${JSON.stringify(exportName)}`);
      return render(output.Value);
    }
    return JSON.stringify(record);
  };
  const outputValue = (name: string): unknown => {
    const output = data.Outputs?.[name];
    if (output === undefined) throw new Error(`data stack has no output ${name}`);
    return output.Value;
  };
  return render(expression);
}

/** The Lambda integrated with route `name`'s method. */
export function deployedFunctionOf(model: ApiModel, name: RouteName): DeployedFunction {
  const spec = routes[name];
  const method = model.methods.find((candidate) => candidate.httpMethod === spec.method && candidate.path === spec.path);
  const deployed = model.functions.find((candidate) => candidate.logicalId === method?.functionId && candidate.template === method?.template);
  if (deployed === undefined) throw new Error(`no function for ${name}`);
  return deployed;
}
