import type * as z from 'zod';
import type { EffectiveConfigResponse, InfoResponse } from './observability-schemas.ts';

/** What the `/metrics`, `/info` and `/config/effective` handlers read; each composition root builds them. */

export interface MetricsExposition {
  /** The Prometheus text exposition (format 0.0.4) of everything this process measures, gauges read now. */
  render(): Promise<string>;
}

export type InfoDocument = z.output<typeof InfoResponse>;
export type EffectiveConfig = z.output<typeof EffectiveConfigResponse>;

export interface PlatformInfo {
  info(): InfoDocument;
}

export interface ConfigurationReport {
  /** Every setting with its value (secrets `***`) and source. */
  effective(): EffectiveConfig;
}
