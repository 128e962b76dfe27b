import { createPlatformHandlers } from '../http/platform-handlers.ts';
import { readLambdaConfig } from '../config.ts';

export const handler = createPlatformHandlers({ serviceVersion: readLambdaConfig().SERVICE_VERSION }).health;
