/**
 * The contract between compiled state machines and the action runner (see statemachines/compile.ts: the
 * Lambda invoke Payload of a service_call Task). Plain types, shared by the runner, the local engine and tests.
 */
export interface ServiceCallPayload {
  readonly action_id: string;
  readonly execution_id: string;
  readonly workflow_id: string;
  readonly workflow_version: number;
  readonly service: string;
  /**
   * Path appended to the service's base URL. With `endpoint_values`, each `{}` in it is a templated segment
   * the runner fills with the value of the same position, percent-encoded (service-url.ts); without, it is
   * used as it is (literal endpoints; state machines compiled before templated segments were encoded).
   */
  readonly endpoint: string;
  /** The values of a templated endpoint's `{}`, by position ("0", "1"...), as the state machine rendered them. */
  readonly endpoint_values?: Readonly<Record<string, unknown>>;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Query string for GET and DELETE, JSON body otherwise. */
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeout_seconds: number;
  /** Set inside a foreach. */
  readonly item_index?: number;
  /** W3C trace id of the execution (32 hex); the runner sends it as `traceparent` and `X-Trace-Id`. */
  readonly trace_id?: string;
  /**
   * The most bytes the result's JSON may take in state data (the compiler's share of the state budget for this
   * action); a larger response is stored outside it and passed by reference. Default 200 KiB.
   */
  readonly inline_result_bytes?: number;
}

export interface ServiceCallResult {
  readonly status_code: number;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON-parsed when the response says JSON, text otherwise. */
  readonly response: unknown;
}
