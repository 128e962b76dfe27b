import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { readLambdaConfig } from '../../functions/config.ts';
import { routes, type RouteName, type RouteSpec } from '../../functions/routes.ts';
import { PLANNER_FUNCTION_TIMEOUT, readPlannerContext } from '../../infra/planner-context.ts';
import { deployedFunctionOf, readApiModel, type ApiModel } from './api-model.ts';
import { asRecord, buildOrchestratorApp } from './fixture.ts';

/**
 * `POST /ai/plan` in AWS (issue 17): the route that asks a model (`model: 'invoke'`) gets ORCHESTRATOR_PLANNER_MODEL
 * and ORCHESTRATOR_PLANNER_MAX_ROUNDS from `-c plannerModel` and `-c plannerMaxRounds`, bedrock:InvokeModel on
 * that model only (a cross-Region inference profile: on the profile and its foundation model in any Region),
 * and a timeout for the model's answers; without a model, neither the variables nor any Bedrock right.
 */

const MODEL_ROUTES = (Object.entries(routes) as Array<[RouteName, RouteSpec]>).filter(([, spec]) => spec.model === 'invoke').map(([name]) => name);
const FOUNDATION_MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const PROFILE = `us.${FOUNDATION_MODEL}`;

function synthesize(context: Record<string, unknown> = {}): { model: ApiModel; app: ReturnType<typeof buildOrchestratorApp>['app'] } {
  const stacks = buildOrchestratorApp(context);
  return { model: readApiModel(stacks), app: stacks.app };
}

const environmentOf = (model: ApiModel, route: RouteName) => asRecord(asRecord(deployedFunctionOf(model, route).properties['Environment'], 'Environment')['Variables'], 'Variables');
const bedrockStatements = (model: ApiModel, route: RouteName) =>
  deployedFunctionOf(model, route)
    .statements.filter((statement) => statement.Action.some((action) => action.startsWith('bedrock:')))
    .map((statement) => ({ Action: statement.Action, Resource: statement.Resource.map((resource) => model.render(resource)) }));
/** Every route function that may call Bedrock, by route name. */
const bedrockRoutes = (model: ApiModel) => (Object.keys(routes) as RouteName[]).filter((route) => bedrockStatements(model, route).length > 0);

describe('the planning route in AWS', () => {
  it('is planWorkflow alone', () => {
    expect(MODEL_ROUTES).toEqual(['planWorkflow']);
  });

  it('without -c plannerModel: deployed with no model variable and no Bedrock right (it answers 503 naming ORCHESTRATOR_PLANNER_MODEL), its timeout for model answers all the same', () => {
    const { model } = synthesize();
    const environment = environmentOf(model, 'planWorkflow');
    expect(environment).not.toHaveProperty('ORCHESTRATOR_PLANNER_MODEL');
    expect(environment).not.toHaveProperty('ORCHESTRATOR_PLANNER_MAX_ROUNDS');
    expect(bedrockRoutes(model)).toEqual([]);
    expect(deployedFunctionOf(model, 'planWorkflow').properties['Timeout']).toBe(PLANNER_FUNCTION_TIMEOUT.toSeconds());
    // Under API Gateway's 29 s integration timeout, and above the other routes' 10 s.
    expect(PLANNER_FUNCTION_TIMEOUT.toSeconds()).toBeLessThan(29);
    expect(deployedFunctionOf(model, 'listTools').properties['Timeout']).toBe(10);
    // ...so the function plans with its own default bound.
    expect(readLambdaConfig({}).ORCHESTRATOR_PLANNER_MAX_ROUNDS).toBe(3);
  });

  it('with a foundation model: its id and the rounds in the environment, InvokeModel on that model in the stack\'s Region only', () => {
    const { model } = synthesize({ plannerModel: FOUNDATION_MODEL, plannerMaxRounds: '5' });
    expect(environmentOf(model, 'planWorkflow')).toMatchObject({ ORCHESTRATOR_PLANNER_MODEL: FOUNDATION_MODEL, ORCHESTRATOR_PLANNER_MAX_ROUNDS: '5' });
    expect(bedrockStatements(model, 'planWorkflow')).toEqual([{ Action: ['bedrock:InvokeModel'], Resource: [`arn:<Ref AWS::Partition>:bedrock:<Ref AWS::Region>::foundation-model/${FOUNDATION_MODEL}`] }]);
    expect(bedrockRoutes(model)).toEqual(['planWorkflow']);
  });

  it('with a cross-Region inference profile: InvokeModel on the profile, and on its foundation model in any Region, acknowledged to cdk-nag with the reason', () => {
    const { model, app } = synthesize({ plannerModel: PROFILE });
    expect(bedrockStatements(model, 'planWorkflow')).toEqual([
      {
        Action: ['bedrock:InvokeModel'],
        Resource: [`arn:<Ref AWS::Partition>:bedrock:<Ref AWS::Region>:<Ref AWS::AccountId>:inference-profile/${PROFILE}`, `arn:<Ref AWS::Partition>:bedrock:*::foundation-model/${FOUNDATION_MODEL}`],
      },
    ]);
    expect(() => app.synth()).not.toThrow();
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  it('with an ARN: that ARN (an application inference profile\'s models are unknown: any foundation model, acknowledged)', () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123';
    const { model, app } = synthesize({ plannerModel: arn });
    expect(bedrockStatements(model, 'planWorkflow')).toEqual([{ Action: ['bedrock:InvokeModel'], Resource: [arn, 'arn:<Ref AWS::Partition>:bedrock:*::foundation-model/*'] }]);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  it('refuses context values the function would refuse, naming the key', () => {
    expect(() => readPlannerContext((key) => ({ plannerModel: 'a model' })[key])).toThrow(/context plannerModel: .*without spaces/);
    expect(() => readPlannerContext((key) => ({ plannerModel: 'arn:aws:s3:::bucket' })[key])).toThrow(/context plannerModel must be a Bedrock model id/);
    expect(() => readPlannerContext((key) => ({ plannerMaxRounds: '11' })[key])).toThrow(/context plannerMaxRounds: ORCHESTRATOR_PLANNER_MAX_ROUNDS must be at most 10/);
    expect(readPlannerContext((key) => ({ plannerModel: ` ${PROFILE} `, plannerMaxRounds: 2 })[key])).toEqual({ modelId: PROFILE, maxRounds: 2 });
    expect(readPlannerContext(() => undefined)).toEqual({});
  });
});
