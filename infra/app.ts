import { App } from 'aws-cdk-lib';
import { defineOrchestrator } from './orchestrator.ts';

/** The CDK app (`cdk.json` runs it with `node infra/app.ts`). Everything it deploys is in orchestrator.ts. */
const app = new App();
defineOrchestrator(app);
app.synth();
