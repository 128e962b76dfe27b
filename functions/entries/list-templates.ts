import { createTemplateListHandler } from '../http/workflow-handlers.ts';

export const handler = createTemplateListHandler();
