import { secured } from '../aws-security.ts';
import { awsApiDriftService } from '../aws-registry-sync-services.ts';
import { createApiDriftHandlers } from '../http/api-drift-handlers.ts';

export const handler = createApiDriftHandlers(secured({ apiDrift: awsApiDriftService() })).pollOpenApi;
