import { secured } from '../aws-security.ts';
import { createAwsConfigurationReport } from '../aws-platform-info.ts';
import { createPlatformInfoHandlers } from '../http/platform-info-handlers.ts';
import type { PlatformInfo } from '../http/observability-services.ts';

export const handler = createPlatformInfoHandlers(
  secured({
    configuration: createAwsConfigurationReport(),
    get platformInfo(): PlatformInfo {
      throw new Error('the platform info is composed by its own entry (functions/entries/get-info.ts)');
    },
  }),
).getEffectiveConfig;
