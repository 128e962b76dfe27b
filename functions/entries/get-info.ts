import { secured } from '../aws-security.ts';
import { createAwsPlatformInfo } from '../aws-platform-info.ts';
import { createPlatformInfoHandlers } from '../http/platform-info-handlers.ts';
import type { ConfigurationReport } from '../http/observability-services.ts';

export const handler = createPlatformInfoHandlers(
  secured({
    platformInfo: createAwsPlatformInfo(),
    get configuration(): ConfigurationReport {
      throw new Error('the configuration report is composed by its own entry (functions/entries/get-effective-config.ts)');
    },
  }),
).getInfo;
