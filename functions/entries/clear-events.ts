import { awsEventServices } from '../aws-event-services.ts';
import { createEventHandlers } from '../http/event-handlers.ts';

export const handler = createEventHandlers(awsEventServices()).clearEvents;
