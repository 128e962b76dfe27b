import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * A document client with the marshalling the stores rely on. Endpoint and credentials come from the
 * standard SDK configuration (AWS_ENDPOINT_URL_DYNAMODB for LocalStack) unless given here (the emulator).
 */
export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}

let shared: DynamoDBDocumentClient | undefined;

/**
 * The process's document client from the standard configuration, built once: a Lambda's stores (its route's,
 * the audit trail's, the span recorder's) share one client, one connection pool and one credentials provider,
 * instead of paying for a client each at cold start.
 */
export function sharedDocumentClient(): DynamoDBDocumentClient {
  shared ??= createDocumentClient();
  return shared;
}
