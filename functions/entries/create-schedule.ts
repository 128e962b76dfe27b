import { awsScheduleService } from '../aws-ecosystem.ts';
import { secured } from '../aws-security.ts';
import { createScheduleHandlers } from '../http/schedule-handlers.ts';

export const handler = createScheduleHandlers(secured({ schedules: awsScheduleService() })).createSchedule;
