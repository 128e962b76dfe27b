import { awsDeadLetterServices } from '../aws-dead-letters.ts';
import { createDeadLetterHandlers } from '../http/dlq-handlers.ts';

export const handler = createDeadLetterHandlers(awsDeadLetterServices()).deadLetterStats;
