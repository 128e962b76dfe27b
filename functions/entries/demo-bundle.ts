import { awsProxyHttpServices } from '../aws-service-proxy.ts';
import { secured } from '../aws-security.ts';
import { createEcosystemHandlers } from '../http/ecosystem-handlers.ts';

export const handler = createEcosystemHandlers(secured(awsProxyHttpServices())).demoBundle;
