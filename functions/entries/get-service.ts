import { awsRegistryServices } from '../aws-services.ts';
import { createRegistryHandlers } from '../http/registry-handlers.ts';

export const handler = createRegistryHandlers(awsRegistryServices()).getService;
