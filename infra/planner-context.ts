import { Arn, ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';
import { AWS_PLANNER_BUDGET_SECONDS, lambdaSettingProblem } from '../functions/config.ts';

/**
 * The context values (`cdk synth -c key=value`) of `POST /ai/plan` (issue 17): the Bedrock model the planner
 * asks and the default bound on its rounds. Both are optional: without a model the route is deployed all the
 * same and answers 503 naming ORCHESTRATOR_PLANNER_MODEL. The model is known at synthesis, so the function may
 * invoke that model only (and, for a cross-Region inference profile, the foundation model it routes to).
 */
export interface PlannerContext {
  /** `-c plannerModel=<model id, inference profile id or ARN>`: ORCHESTRATOR_PLANNER_MODEL of the planning function. */
  readonly modelId?: string;
  /** `-c plannerMaxRounds=<1..10>`: ORCHESTRATOR_PLANNER_MAX_ROUNDS; unset, the function's default (3). */
  readonly maxRounds?: number;
}

/** What the planning routes (`model: 'invoke'`) get: their model's variables, and the right to invoke it. */
export interface PlannerModelAccess {
  readonly environment: Readonly<Record<string, string>>;
  grantModelInvocation(grantee: IGrantable): void;
}

/** What the function gets past the planning budget (AWS_PLANNER_BUDGET_SECONDS) to answer the 504 and flush its logs and spans. */
export const PLANNER_TIMEOUT_MARGIN_SECONDS = 3;

/**
 * The planning function's timeout: longer than the other routes' 10 s, since each round is one model answer,
 * and just under API Gateway's 29 s integration timeout, which would otherwise answer 504 itself, anonymously.
 */
export const PLANNER_FUNCTION_TIMEOUT = Duration.seconds(AWS_PLANNER_BUDGET_SECONDS + PLANNER_TIMEOUT_MARGIN_SECONDS);

/** The geography prefixes of Bedrock's system-defined cross-Region inference profiles (`us.anthropic.claude-...`). */
const PROFILE_GEOGRAPHIES = ['us', 'us-gov', 'eu', 'apac', 'jp', 'au', 'ca', 'global'] as const;

type RawReader = (key: string) => unknown;

/** Reads and validates the planner's context of `scope`'s app. */
export function plannerContextOf(scope: IConstruct): PlannerContext {
  return readPlannerContext((key) => scope.node.root.node.tryGetContext(key));
}

/** The context values, validated as the function validates its variables (functions/config.ts plannerSettings). */
export function readPlannerContext(read: RawReader): PlannerContext {
  const modelId = text(read('plannerModel'));
  const maxRounds = text(read('plannerMaxRounds'));
  if (modelId !== undefined) {
    const problem = lambdaSettingProblem('ORCHESTRATOR_PLANNER_MODEL', modelId);
    if (problem !== undefined) throw new Error(`context plannerModel: ${problem}`);
    if (modelId.startsWith('arn:') && !/^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d{0,12}:[a-z-]+\/.+$/.test(modelId)) {
      throw new Error(`context plannerModel must be a Bedrock model id (anthropic.claude-...), an inference profile id (us.anthropic.claude-...) or a Bedrock ARN; got ${JSON.stringify(modelId)}`);
    }
  }
  if (maxRounds !== undefined) {
    const problem = lambdaSettingProblem('ORCHESTRATOR_PLANNER_MAX_ROUNDS', maxRounds);
    if (problem !== undefined) throw new Error(`context plannerMaxRounds: ${problem}`);
  }
  return { ...(modelId === undefined ? {} : { modelId }), ...(maxRounds === undefined ? {} : { maxRounds: Number(maxRounds) }) };
}

/** ORCHESTRATOR_PLANNER_MODEL and ORCHESTRATOR_PLANNER_MAX_ROUNDS, each only when the deployment sets it. */
export function plannerEnvironment(context: PlannerContext): Record<string, string> {
  return {
    ...(context.modelId === undefined ? {} : { ORCHESTRATOR_PLANNER_MODEL: context.modelId }),
    ...(context.maxRounds === undefined ? {} : { ORCHESTRATOR_PLANNER_MAX_ROUNDS: String(context.maxRounds) }),
  };
}

/** The planning routes' settings and grant for `context`: no grant at all without a model. */
export function plannerModelAccess(context: PlannerContext): PlannerModelAccess {
  return {
    environment: plannerEnvironment(context),
    grantModelInvocation(grantee) {
      if (context.modelId === undefined || !Construct.isConstruct(grantee.grantPrincipal)) return;
      const { resources, acknowledgements } = modelInvocationResources(context.modelId, Stack.of(grantee.grantPrincipal));
      Grant.addToPrincipal({ grantee, actions: ['bedrock:InvokeModel'], resourceArns: resources });
      if (acknowledgements.length > 0) Validations.of(grantee.grantPrincipal).acknowledge(...acknowledgements);
    },
  };
}

/**
 * What InvokeModel on `modelId` needs: a foundation model in the stack's Region; a system inference profile in
 * the stack's Region and the foundation model in every Region of its geography (Bedrock routes the request to
 * one of them); an ARN as it is (an application inference profile's models are not known here: any foundation
 * model). Region wildcards come with the cdk-nag acknowledgement that says why.
 */
export function modelInvocationResources(modelId: string, stack: Stack): { resources: string[]; acknowledgements: Array<{ id: string; reason: string }> } {
  const foundationModel = (name: string, region?: string) =>
    Arn.format({ service: 'bedrock', account: '', ...(region === undefined ? {} : { region }), resource: 'foundation-model', resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack);
  const anyRegionModel = (name: string, why: string) => ({
    arn: foundationModel(name, '*'),
    acknowledgement: {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${name}]`,
      reason: `The planner's model (-c plannerModel=${modelId}) is ${why}, so InvokeModel must be allowed on those foundation models in those Regions; InvokeModel only (AWS-owned models: no account data is reachable through them).`,
    },
  });
  const CROSS_REGION = "a cross-Region inference profile: Bedrock serves it from its foundation model in any Region of the profile's geography";
  const APPLICATION_PROFILE = 'an application inference profile: the foundation models (and Regions) it routes to are chosen outside this deployment';
  if (modelId.startsWith('arn:')) {
    const base = inferenceProfileBase(modelId.split('/').slice(1).join('/'));
    if (/:inference-profile\//.test(modelId) && base !== undefined) {
      const crossRegion = anyRegionModel(base, CROSS_REGION);
      return { resources: [modelId, crossRegion.arn], acknowledgements: [crossRegion.acknowledgement] };
    }
    if (/:application-inference-profile\//.test(modelId)) {
      const anyModel = anyRegionModel('*', APPLICATION_PROFILE);
      return { resources: [modelId, anyModel.arn], acknowledgements: [anyModel.acknowledgement] };
    }
    return { resources: [modelId], acknowledgements: [] };
  }
  const base = inferenceProfileBase(modelId);
  if (base === undefined) return { resources: [foundationModel(modelId)], acknowledgements: [] };
  const profile = Arn.format({ service: 'bedrock', resource: 'inference-profile', resourceName: modelId, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack);
  const crossRegion = anyRegionModel(base, CROSS_REGION);
  return { resources: [profile, crossRegion.arn], acknowledgements: [crossRegion.acknowledgement] };
}

/** `us.anthropic.claude-...` -> `anthropic.claude-...`; undefined for an id that is not a system inference profile's. */
function inferenceProfileBase(id: string): string | undefined {
  const [geography, ...rest] = id.split('.');
  return rest.length >= 2 && (PROFILE_GEOGRAPHIES as readonly string[]).includes(geography ?? '') ? rest.join('.') : undefined;
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
}
