import { readLocalConfig } from './config.ts';
import { startLocalRuntime } from './runtime.ts';
import { describeAuth } from './auth-banner.ts';

/** `npm start`: the orchestrator on this machine, data kept under ORCHESTRATOR_DATA_DIR. */
const config = readLocalConfig();
const runtime = await startLocalRuntime({ ...config, dataDir: config.dataDir });
console.log(`Orchestrator listening on ${runtime.url} (data in ${config.dynamoEndpoint ? config.dynamoEndpoint : config.dataDir})`);
console.log(`  try: curl ${runtime.url}/health   API description: ${runtime.url}/openapi.json`);
for (const line of describeAuth(config.auth, config.rateLimit)) console.log(line);
if (config.tls?.clientCa) console.log('  mutual TLS: clients must present a certificate signed by a CA in ORCHESTRATOR_TLS_CLIENT_CA_PATH');
for (const line of runtime.describeOutbound()) console.log(`  ${line}`);
console.log(`  dead letters: ${runtime.deadLetterQueueUrl} (SQS at ${runtime.sqsEndpoint})   large responses: s3://${runtime.payloadBucketName} (S3 at ${runtime.s3Endpoint})`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal} received, shutting down`);
  const forced = setTimeout(() => {
    console.error('shutdown took more than 5 s; exiting anyway');
    process.exit(1);
  }, 5000);
  forced.unref();
  await runtime.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
