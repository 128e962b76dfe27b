import { secured } from '../aws-security.ts';
import { awsToolListingServices } from '../aws-tools.ts';
import { createToolHandlers } from '../http/tool-handlers.ts';

export const handler = createToolHandlers(secured(awsToolListingServices())).listTools;
