import { Validations, type CfnElement } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { routes } from '../../functions/routes.ts';
import { buildOrchestratorApp } from './fixture.ts';

/** Rule ID -> paths of the constructs it is acknowledged on (CDK prefixes nag IDs with `Annotation::`). */
function acknowledgedRules(root: ReturnType<typeof buildOrchestratorApp>['app']): Map<string, string[]> {
  const acknowledged = new Map<string, string[]>();
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || typeof entry.data !== 'object' || entry.data === null) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        expect(typeof reason === 'string' && reason.length > 40, `${id} on ${construct.node.path} says why`).toBe(true);
        const ruleId = id.replace(/^annotation::/i, '');
        acknowledged.set(ruleId, [...(acknowledged.get(ruleId) ?? []), construct.node.path]);
      }
    }
  }
  return acknowledged;
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged: the app synthesizes with the checks on, and a direct run reports no violation', () => {
    const { app } = buildOrchestratorApp();
    expect(() => app.synth()).not.toThrow();
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.map((violation) => `${violation.ruleName}: ${violation.violatingResources.map((resource) => resource.constructPath).join(', ')}`)).toEqual([]);
  });

  it('is wired into the app: a resource breaking a rule fails synthesis', () => {
    const { app, api } = buildOrchestratorApp();
    new LambdaFunction(api, 'OutdatedRuntime', { runtime: Runtime.NODEJS_20_X, handler: 'index.handler', code: Code.fromInline('exports.handler = async () => {};') });
    expect(() => app.synth()).toThrow(/AwsSolutions-L1/);
  });

  it('acknowledges only these rules, each as narrowly as it can be, each with a reason', () => {
    const { app, api, runtime, console: consoleStack } = buildOrchestratorApp();
    if (!consoleStack) throw new Error('the app deploys the console by default');
    const acknowledged = acknowledgedRules(app);
    const copier = consoleStack.node.findAll().find((construct) => construct.node.id.startsWith('Custom::CDKBucketDeployment'))!.node.path;
    const copierRole = `${copier}/ServiceRole`;
    const workerRoles = [
      runtime.actionRunner.role.node.path,
      runtime.statusListener.role.node.path,
      runtime.healthSweep.role.node.path,
      runtime.openApiPoll.role.node.path,
      runtime.workflowDeployer.role.node.path,
      runtime.eventRecorder.recorder.role.node.path,
      runtime.eventDeliveries.worker.role.node.path,
      runtime.schedules.scheduledRun.role.node.path,
      runtime.schedules.jobRun.role.node.path,
    ];
    // Routes that make and remove subscription rules: one rule per subscription, under the deployment's prefix.
    const ruleRoles = [...api.contextStacks.values()].flatMap((contextStack) =>
      [...contextStack.functions.entries()].filter(([name]) => (routes[name] as { deliveries?: string }).deliveries === 'rules').map(([, apiFunction]) => apiFunction.role.node.path),
    );
    expect(ruleRoles).toHaveLength(2);
    // The workflow deployer and the schedule and job workers have the engine's rights (grantEngineAccess), like
    // the routes that start runs.
    const deployerRole = runtime.workflowDeployer.role.node.path;
    const timedRunRoles = [runtime.schedules.scheduledRun.role.node.path, runtime.schedules.jobRun.role.node.path];
    // Routes that create, change or delete schedules' timers, and the scheduled-run worker (it deletes those of
    // deleted workflows): the schedules of the deployment's group, named at run time.
    const scheduleRoles = [
      runtime.schedules.scheduledRun.role.node.path,
      ...[...api.contextStacks.values()].flatMap((contextStack) =>
        [...contextStack.functions.entries()].filter(([name]) => (routes[name] as { schedules?: string }).schedules === 'manage').map(([, apiFunction]) => apiFunction.role.node.path),
      ),
    ].sort();
    expect(scheduleRoles).toHaveLength(5);
    const executionRole = runtime.executionRole.node.path;
    const functionRoles = [...api.contextStacks.values()].flatMap((contextStack) => [...contextStack.functions.values()].map((apiFunction) => apiFunction.role.node.path));
    expect(functionRoles).toHaveLength(Object.keys(routes).length);
    const authorizerRole = api.authorizer?.function.role.node.path ?? 'no authorizer';
    // Every method, by its route's access: public ones have no authorizer at all.
    const methodPaths = [...api.contextStacks.values()].flatMap((contextStack) =>
      contextStack.methods.map((method) => ({ path: method.node.path, public: Object.values(routes).some((spec) => spec.auth === 'public' && spec.method === method.httpMethod && spec.path === method.resource.path) })),
    );
    expect(methodPaths).toHaveLength(Object.keys(routes).length);
    expect(methodPaths.filter((method) => method.public).length).toBe(Object.values(routes).filter((spec) => spec.auth === 'public').length);
    // Routes that start or stop runs get the engine's two prefix patterns (runtime-stack.test.ts checks them).
    const engineRoles = [...api.contextStacks.values()].flatMap((contextStack) =>
      [...contextStack.functions.entries()].filter(([name]) => (routes[name] as { engine?: boolean }).engine).map(([, apiFunction]) => apiFunction.role.node.path),
    );
    expect(engineRoles).toHaveLength(Object.values(routes).filter((route) => (route as { engine?: boolean }).engine).length);
    const credentialRoles = [
      runtime.actionRunner.role.node.path,
      runtime.healthSweep.role.node.path,
      ...[...api.contextStacks.values()].flatMap((contextStack) =>
        [...contextStack.functions.entries()]
          // The proxies send services' credentials as the action runner does.
          .filter(([name]) => (routes[name] as { outbound?: string }).outbound === 'credentials' || (routes[name] as { ecosystem?: boolean }).ecosystem === true)
          .map(([, apiFunction]) => apiFunction.role.node.path),
      ),
    ].sort();

    expect(Object.fromEntries([...acknowledged].map(([ruleId, paths]) => [ruleId, [...paths].sort()]))).toEqual({
      // Methods without an authorizer: the public routes' only.
      'AwsSolutions-APIG4': methodPaths.filter((method) => method.public).map((method) => method.path).sort(),
      // No Cognito authorizer: on each method (the Lambda authorizer verifies any OIDC issuer's tokens).
      'AwsSolutions-COG4': methodPaths.map((method) => method.path).sort(),
      // No WAF unless -c wafRateLimit: the stage only (api-edge.test.ts checks it goes away with the web ACL).
      'AwsSolutions-APIG3': [api.stage.node.path],
      // The account-wide API Gateway logging role and its AWS-managed policy, nothing else.
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]': [`${api.restApi.node.path}/CloudWatchRole`],
      // X-Ray on '*', on each function's role (api-stack.test.ts checks X-Ray is all that is on '*'); on the
      // state machines' role, X-Ray and log delivery (runtime-stack.test.ts checks its exact statements).
      // ...and CloudFront invalidations by CDK's BucketDeployment function (the console).
      'AwsSolutions-IAM5[Resource::*]': [...functionRoles, ...workerRoles, executionRole, authorizerRole, copierRole].sort(),
      // Sub-workflows: the state machines under the prefix, created at run time (runtime-stack.test.ts).
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:Orchestrator-*]': [executionRole, ...engineRoles, deployerRole, ...timedRunRoles].sort(),
      // ...and the status listener, which reads finished runs' histories (GetExecutionHistory only).
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:Orchestrator-*:*]': [executionRole, ...engineRoles, deployerRole, ...timedRunRoles, runtime.statusListener.role.node.path].sort(),
      // The parts of split workflows (Orchestrator_*), created at run time: the engines create and publish
      // them, the state machines start and follow them, the status listener reads their histories.
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:Orchestrator_*]': [executionRole, ...engineRoles, deployerRole, ...timedRunRoles].sort(),
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:Orchestrator_*:*]': [executionRole, runtime.statusListener.role.node.path].sort(),
      // llm actions: the state machines invoke the region's foundation models (runtime-stack.test.ts checks the statement).
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>::foundation-model/*]': [executionRole],
      // The runtime's six queues without a dead-letter queue are themselves dead-letter queues.
      'AwsSolutions-SQS3': [
        runtime.deadLetterQueue.node.path,
        runtime.statusDeadLetterQueue.node.path,
        runtime.deployDeadLetterQueue.node.path,
        runtime.eventDeliveries.deadLetterQueue.node.path,
        runtime.eventRecorder.deadLetterQueue.node.path,
        runtime.schedules.deadLetterQueue.node.path,
      ].sort(),
      // Workflow schedules' timers, named at run time in the deployment's schedule group (ecosystem.test.ts).
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/Orchestrator-schedules/*]': scheduleRoles,
      // Subscription rules, named at run time <prefix>-sub-<id> on the deployment's bus.
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/Orchestrator-workflow-events/Orchestrator-sub-*]': ruleRoles.sort(),
      // The action runner's payload objects, named at run time under payloads/ (runtime-stack.test.ts).
      [`AwsSolutions-IAM5[Resource::<${runtime.getLogicalId(runtime.payloadBucket.node.defaultChild as CfnElement)}.Arn>/payloads/*]`]: [runtime.actionRunner.role.node.path],
      // The payload bucket: short-lived copies only the action runner touches, no access log bucket (and the console's, below).
      // Services' credentials, named at registration under orchestrator/ (outbound-access.test.ts): read by the
      // action runner, the health sweep, the health-check route and the proxies.
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:orchestrator/*]': credentialRoles,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/orchestrator/*]': credentialRoles,
      // The cursor key is not rotated: the functions get it at deployment (infra/constructs/cursor-secret.ts).
      'AwsSolutions-SMG4': [api.cursorSecret.secret.node.path],
      // The console (console-stack.test.ts): its bucket without an access log, its distribution on CloudFront's
      // own certificate with no geo restriction, WAF or access log of its own, and CDK's BucketDeployment function.
      'AwsSolutions-S1': [runtime.payloadBucket.node.path, consoleStack.bucket.node.path].sort(),
      'AwsSolutions-CFR1': [consoleStack.distribution.node.path],
      'AwsSolutions-CFR2': [consoleStack.distribution.node.path],
      'AwsSolutions-CFR3': [consoleStack.distribution.node.path],
      'AwsSolutions-CFR4': [consoleStack.distribution.node.path],
      'AwsSolutions-L1': [copier],
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]': [copierRole],
      ...Object.fromEntries(['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => [`AwsSolutions-IAM5[Action::${action}]`, [copierRole]])),
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]': [copierRole],
      [`AwsSolutions-IAM5[Resource::<${consoleStack.getLogicalId(consoleStack.bucket.node.defaultChild as CfnElement)}.Arn>/*]`]: [copierRole],
    });
  });
});
