import { awsSecurityServices } from '../aws-security.ts';
import { createSecurityHandlers } from '../http/security-handlers.ts';

export const handler = createSecurityHandlers(awsSecurityServices()).listAuditRecords;
