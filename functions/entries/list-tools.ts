import { secured } from '../aws-security.ts';
import { awsToolCatalog } from '../aws-tools.ts';
import { createToolHandlers } from '../http/tool-handlers.ts';

export const handler = createToolHandlers(secured({ tools: awsToolCatalog() })).listTools;
