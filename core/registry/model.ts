/** A service the runner can call, found by name (`service` in a service_call). */
export interface ServiceRegistration {
  readonly name: string;
  /** Base URL, http(s); endpoints are appended to it. */
  readonly url: string;
  readonly health_path: string;
  readonly openapi_path?: string;
  readonly version?: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly registered_at: string;
  readonly updated_at: string;
}
