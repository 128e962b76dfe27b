import { secured } from '../aws-security.ts';
import { awsRegistryServices } from '../aws-services.ts';
import { createRegistryHandlers } from '../http/registry-handlers.ts';

export const handler = createRegistryHandlers(secured(awsRegistryServices())).getService;
