import type { Secured } from './services.ts';
import type { ConfigurationReport, PlatformInfo } from './observability-services.ts';
import { handlerFactory, type ApiHandler } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';

/**
 * `GET /info` (what is running) and `GET /config/effective` (every setting and its source; admins only). The
 * services are read when a request comes, not here: each AWS entry composes only its own.
 */
export function createPlatformInfoHandlers(services: { readonly platformInfo: PlatformInfo; readonly configuration: ConfigurationReport } & Secured) {
  const handle = handlerFactory(services.security);
  return {
    getInfo: handle(routes.getInfo, async () => ({ message: 'Service info', data: services.platformInfo.info() })),
    getEffectiveConfig: handle(routes.getEffectiveConfig, async () => {
      const report = services.configuration.effective();
      return { message: `Effective configuration: ${report.settings.length} settings`, data: report };
    }),
  } satisfies Partial<Record<keyof typeof routes, ApiHandler>>;
}
