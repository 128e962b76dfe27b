import { awsEcosystemHttpServices } from '../aws-ecosystem.ts';
import { secured } from '../aws-security.ts';
import { createEcosystemHandlers } from '../http/ecosystem-handlers.ts';

export const handler = createEcosystemHandlers(secured(awsEcosystemHttpServices())).docstoreSave;
