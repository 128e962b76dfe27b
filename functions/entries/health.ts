import { secured } from '../aws-security.ts';
import { createPlatformHandlers } from '../http/platform-handlers.ts';
import { readLambdaConfig } from '../config.ts';

export const handler = createPlatformHandlers(secured({ serviceVersion: readLambdaConfig().SERVICE_VERSION })).health;
