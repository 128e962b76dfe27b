import { awsEventServices } from '../aws-events.ts';
import { createEventHandlers } from '../http/event-handlers.ts';

export const handler = createEventHandlers(awsEventServices()).streamEvents;
