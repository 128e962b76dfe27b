import { Token } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { PROJECT_TAG } from '../../infra/orchestrator.ts';
import { buildOrchestratorApp } from './fixture.ts';

describe('the CDK app', () => {
  it('names its stacks with the Orchestrator prefix by default', () => {
    const { data, api } = buildOrchestratorApp();
    expect([data.stackName, api.stackName]).toEqual(['OrchestratorData', 'OrchestratorApi']);
  });

  it('takes the prefix from context, so several copies can share an account', () => {
    const { data, api } = buildOrchestratorApp({ stackPrefix: 'AliceDev' });
    expect([data.stackName, api.stackName]).toEqual(['AliceDevData', 'AliceDevApi']);
  });

  it('rejects a prefix CloudFormation would refuse', () => {
    expect(() => buildOrchestratorApp({ stackPrefix: 'alice_dev' })).toThrow(/stackPrefix/);
  });

  it('is environment-agnostic: account and region are resolved at deploy time', () => {
    const { data, api } = buildOrchestratorApp();
    for (const stack of [data, api]) {
      expect(Token.isUnresolved(stack.account), `${stack.stackName} account`).toBe(true);
      expect(Token.isUnresolved(stack.region), `${stack.stackName} region`).toBe(true);
    }
  });

  it('tags both stacks with the project (CloudFormation copies stack tags onto their resources)', () => {
    const { data, api } = buildOrchestratorApp();
    for (const stack of [data, api]) expect(stack.tags.tagValues()).toEqual({ [PROJECT_TAG.key]: PROJECT_TAG.value });
  });

  it('deploys the data stack before the API stack', () => {
    const { app, data, api } = buildOrchestratorApp();
    const apiArtifact = app.synth().getStackArtifact(api.artifactId);
    expect(apiArtifact.dependencies.map((dependency) => dependency.id)).toContain(data.artifactId);
  });
});
