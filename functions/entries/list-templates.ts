import { awsHandlerSecurity } from '../aws-security.ts';
import { createTemplateListHandler } from '../http/workflow-handlers.ts';

export const handler = createTemplateListHandler(awsHandlerSecurity());
