import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../adapters/aws/dynamo/dynamo-service-registry.ts';
import { DynamoWorkflowStore } from '../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { createHttpApiDocumentSource } from '../adapters/http/api-document-source.ts';
import { createToolCatalog, TOOL_DOCUMENT_TIMEOUT_MS, type ToolCatalog } from '../core/ai/tool-catalog.ts';
import type { ToolHttpServices } from './http/tool-handlers.ts';
import { systemClock } from '../core/system.ts';
import { awsOutboundHttp } from './aws-outbound.ts';
import { cursorCodecOf, readLambdaConfig, required } from './config.ts';

/**
 * `GET /tools` in AWS: the workflows table (read), the registry table (read) and services' documents under the
 * action runner's outbound policy. Built once per function instance, so that its kept conversions serve every
 * warm invocation.
 */
export function awsToolCatalog(): ToolCatalog {
  const config = readLambdaConfig();
  const client = sharedDocumentClient();
  return createToolCatalog({
    registry: new DynamoServiceRegistry(client, required(config.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME')),
    // The listing pages through the active workflows with the store's cursors.
    workflows: new DynamoWorkflowStore(client, required(config.WORKFLOWS_TABLE_NAME, 'WORKFLOWS_TABLE_NAME'), { cursors: cursorCodecOf(config) }),
    documents: createHttpApiDocumentSource({ http: awsOutboundHttp(config), timeoutMs: TOOL_DOCUMENT_TIMEOUT_MS }),
    clock: systemClock,
  });
}

/**
 * What `GET /tools`' function composes: the catalog alone. Calling a tool is `POST /tools/{tool_name}/call`'s
 * function (functions/entries/call-tool.ts), so that the action runner is bundled there and not here.
 */
export function awsToolListingServices(): ToolHttpServices {
  return {
    tools: awsToolCatalog(),
    get serviceProxy(): never {
      throw new Error('service operations are called by their own entry (functions/entries/call-tool.ts)');
    },
  };
}
