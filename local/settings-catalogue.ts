import type { SettingInfo } from './settings.ts';

/**
 * Every setting of the local runtime: its environment variable (the key), where config/app.yaml may set it
 * besides `orchestrator.<VARIABLE>` (which works for every one), whether it is a secret, and what it does.
 * local/config.ts validates the merged values with its zod schema; a compile-time check there keeps this
 * catalogue and the schema's keys identical. config/app.example.yaml documents the file.
 */
export const LOCAL_SETTINGS = {
  PORT: { fileKeys: ['services.port'], description: 'Port the API listens on; 0 picks a free one' },
  HOST: { fileKeys: ['services.host'], description: 'Address the API listens on' },
  ORCHESTRATOR_ENABLE_TLS: { fileKeys: ['security.enable_tls'], description: 'Serve HTTPS (TLS 1.2+) with the certificate and key below' },
  ORCHESTRATOR_TLS_CERT_PATH: { fileKeys: ['security.tls_cert_path'], description: 'PEM certificate (and chain) of the HTTPS server' },
  ORCHESTRATOR_TLS_KEY_PATH: { fileKeys: ['security.tls_key_path'], description: 'PEM private key of the HTTPS server' },
  ORCHESTRATOR_TLS_CLIENT_CA_PATH: { fileKeys: ['security.tls_client_ca_path'], description: 'CA certificates client certificates must chain to: mutual TLS' },
  ORCHESTRATOR_DATA_DIR: { description: 'Where the embedded emulators keep their data' },
  WORKFLOWS_TABLE_NAME: { description: 'The workflows table' },
  REGISTRY_TABLE_NAME: { description: 'The service registry table' },
  AWS_ENDPOINT_URL_DYNAMODB: { description: 'An existing DynamoDB (LocalStack...) instead of the embedded emulator' },
  AWS_ENDPOINT_URL_SQS: { description: 'An existing SQS instead of the embedded emulator' },
  AWS_ENDPOINT_URL_S3: { description: 'An existing S3 instead of the embedded emulator' },
  DEAD_LETTER_QUEUE_NAME: { description: 'The queue failed service calls go to' },
  PAYLOAD_BUCKET_NAME: { description: 'The bucket responses too large for state data go to' },
  AWS_REGION: { description: 'Region the SDK clients are given' },
  SERVICE_VERSION: { description: 'Version reported by the health routes and GET /info' },
  ORCHESTRATOR_HEALTH_CHECK_INTERVAL: { fileKeys: ['monitoring.health_check_interval'], description: 'Seconds between health sweeps of registered instances; 0: off' },
  ORCHESTRATOR_HEALTH_CHECK_TIMEOUT_MS: { fileKeys: ['monitoring.health_check_timeout_ms'], description: "One health probe's time limit, in ms" },
  ORCHESTRATOR_HEALTH_CHECK_CONCURRENCY: { fileKeys: ['monitoring.health_check_concurrency'], description: 'Health probes in flight at once' },
  ORCHESTRATOR_HEALTH_DEGRADED_MS: { fileKeys: ['monitoring.health_degraded_ms'], description: 'A health answer slower than this (ms) marks the instance degraded' },
  ORCHESTRATOR_PEERS: { fileKeys: ['services.peers'], description: 'Base URLs of the peer orchestrators whose registries this one syncs with (comma-separated, or a YAML list)' },
  ORCHESTRATOR_OPENAPI_POLL_INTERVAL: { fileKeys: ['monitoring.openapi_poll_interval'], description: "Seconds between polls of registered services' OpenAPI documents; 0: off" },
  ORCHESTRATOR_CIRCUIT_FAILURE_THRESHOLD: { description: "Failures in a row within the window that open an instance's circuit" },
  ORCHESTRATOR_CIRCUIT_WINDOW_SECONDS: { description: 'The circuit breaker window, in seconds' },
  ORCHESTRATOR_CIRCUIT_COOLDOWN_SECONDS: { description: 'How long an open circuit stays open, in seconds' },
  ORCHESTRATOR_REGISTRY_CACHE_TTL_MS: { description: 'How long the action runner trusts what it read of a service, in ms' },
  ORCHESTRATOR_OUTBOUND_ALLOW: {
    fileKeys: ['security.outbound_allow'],
    emptyIsValue: true,
    description: 'What outbound calls may reach besides public addresses: CIDRs, addresses, host names (empty: public addresses only)',
  },
  ORCHESTRATOR_AUTH_MODE: { fileKeys: ['security.auth_mode'], description: 'Authentication: optional, required or off' },
  ORCHESTRATOR_ANONYMOUS_ROLE: { fileKeys: ['security.anonymous_role'], description: 'Role of anonymous callers when authentication is optional' },
  ORCHESTRATOR_JWT_SECRET: { fileKeys: ['security.jwt_secret'], secret: true, description: 'HS256 secret of bearer tokens (at least 32 characters)' },
  ORCHESTRATOR_JWKS_URL: { fileKeys: ['security.jwks_url'], description: 'JWKS of the issuer of asymmetric bearer tokens' },
  ORCHESTRATOR_JWT_ALGORITHMS: { fileKeys: ['security.jwt_algorithms'], description: 'Accepted asymmetric algorithms, e.g. RS256,ES256' },
  ORCHESTRATOR_JWT_ISSUER: { fileKeys: ['security.jwt_issuer'], description: 'Required `iss` of bearer tokens' },
  ORCHESTRATOR_JWT_AUDIENCE: { fileKeys: ['security.jwt_audience'], description: 'Required `aud` of bearer tokens' },
  ORCHESTRATOR_API_KEY: { fileKeys: ['security.api_key'], secret: true, description: "The reference's single API key (role admin)" },
  ORCHESTRATOR_PEER_TOKEN: { fileKeys: ['security.peer_token'], secret: true, description: 'What peers present to POST /registry/replicate, and what this orchestrator sends them' },
  ORCHESTRATOR_AUDIT_RETENTION_DAYS: { fileKeys: ['security.audit_retention_days'], description: 'Days an audit record is kept' },
  ORCHESTRATOR_EVENT_RETENTION_DAYS: { fileKeys: ['monitoring.event_retention_days'], description: 'Days a recorded event is kept' },
  ORCHESTRATOR_CURSOR_SECRET: { fileKeys: ['security.cursor_secret'], secret: true, description: 'Signs listing cursors; unset: a key kept in <data dir>/cursor-secret' },
  ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS: { fileKeys: ['services.shutdown_grace_seconds'], description: 'Seconds a stop lets calls in flight finish' },
  ORCHESTRATOR_RATE_LIMIT_RPS: { fileKeys: ['security.rate_limit_rps'], description: 'Requests per second per caller' },
  ORCHESTRATOR_RATE_LIMIT_BURST: { fileKeys: ['security.rate_limit_burst'], description: 'Burst size per caller' },
  ORCHESTRATOR_CORS_ORIGINS: { fileKeys: ['security.cors_origins'], description: 'Browser origins that may call the API (comma-separated, a YAML list, or *)' },
  LOG_LEVEL: { fileKeys: ['monitoring.log_level'], description: 'DEBUG, INFO, WARN, ERROR or SILENT (any case)' },
  LOG_COLLECTOR_URL: { fileKeys: ['monitoring.log_collector_url'], description: 'Where structured logs are also shipped (http or https)' },
  ORCHESTRATOR_METRICS_ENABLED: { fileKeys: ['monitoring.metrics_enabled', 'monitoring.enabled'], description: 'Measure requests, runs and service calls (GET /metrics)' },
  ORCHESTRATOR_TRACING_ENABLED: { fileKeys: ['monitoring.tracing_enabled'], description: 'Record spans of requests, runs and service calls (/infrastructure/tracing/*)' },
  OTEL_EXPORTER_OTLP_ENDPOINT: { fileKeys: ['monitoring.otlp_endpoint'], description: 'OTLP/HTTP collector spans are also exported to' },
  OTEL_EXPORTER_OTLP_HEADERS: { fileKeys: ['monitoring.otlp_headers'], secret: true, description: 'Headers of the OTLP export: key=value,key2=value2 (values percent-encoded)' },
  ORCHESTRATOR_SPAN_RETENTION_DAYS: { fileKeys: ['monitoring.span_retention_days'], description: 'Days a recorded span is kept' },
  ORCHESTRATOR_PROXY_TIMEOUT_SECONDS: { fileKeys: ['services.proxy_timeout_seconds'], description: 'How long a proxied request (/report/request, /summarization/suggest, /docstore/save, /demo/e2e) may take, retries included' },
  ORCHESTRATOR_JOB_RECALC_QUALITY_SCHEDULE: { fileKeys: ['jobs.recalc_quality_schedule'], description: 'When the quality recalculation job runs: cron(...), rate(...) or at(...) in UTC, or off' },
  ORCHESTRATOR_JOB_NOTIFY_CONSOLIDATION_SCHEDULE: { fileKeys: ['jobs.notify_consolidation_schedule'], description: 'When the consolidation notice job runs: cron(...), rate(...) or at(...) in UTC, or off' },
  LLM_GATEWAY_URL: { fileKeys: ['services.llm_gateway_url'], description: 'OpenAI-compatible endpoint llm actions call locally (POST <url>/v1/chat/completions); unset: llm actions fail, naming it' },
  LLM_GATEWAY_API_KEY: { fileKeys: ['security.llm_gateway_api_key'], secret: true, description: 'Bearer token sent to LLM_GATEWAY_URL' },
  ORCHESTRATOR_PLANNER_MODEL: { fileKeys: ['services.planner_model'], description: 'The model POST /ai/plan asks through LLM_GATEWAY_URL (gateways route on it); default anthropic.claude-3-5-haiku-20241022-v1:0' },
  ORCHESTRATOR_PLANNER_MAX_ROUNDS: { fileKeys: ['services.planner_max_rounds'], description: 'Model answers POST /ai/plan takes at most (first draft and repairs) when the request names no max_rounds; 1 to 10' },
  ORCHESTRATOR_MCP_SERVICE_TOOLS: { fileKeys: ['services.mcp_service_tools'], description: "POST /mcp also offers the registered services' operations (GET /tools) as tools; default false: workflows only" },
  ORCHESTRATOR_COMMIT: { description: 'Git commit reported by GET /info; unset: `git rev-parse HEAD` at start' },
  ORCHESTRATOR_BUILD_TIME: { description: 'Build time reported by GET /info; unset: the start time' },
} as const satisfies Readonly<Record<string, SettingInfo>>;

/** Sections of config/app.yaml this implementation reads. */
export const FILE_SECTIONS = ['orchestrator', 'services', 'security', 'monitoring'] as const;

/** Sections of the reference's file that mean nothing here: read, ignored, and said so. */
export const IGNORED_SECTIONS: Readonly<Record<string, string>> = {
  redis: 'events go through the in-process event bus locally and EventBridge in AWS; there is no Redis',
  database: 'data is kept in DynamoDB (the embedded emulator under ORCHESTRATOR_DATA_DIR, or AWS_ENDPOINT_URL_DYNAMODB)',
  enterprise: 'circuit breaking, rate limiting and event streaming are always on (ORCHESTRATOR_CIRCUIT_*, ORCHESTRATOR_RATE_LIMIT_*)',
};

/** Keys of the reference's file, inside sections read here, that this implementation does not use. */
export const IGNORED_FILE_KEYS: Readonly<Record<string, string>> = {
  'services.workers': 'one Node.js process serves every request locally; Lambda scales in AWS',
  'monitoring.metrics_interval': 'metrics are read when GET /metrics is scraped',
};

/** The reference's environment variables that mean nothing here, noted at start when set. */
export const IGNORED_ENVIRONMENT: Readonly<Record<string, string>> = {
  REDIS_HOST: IGNORED_SECTIONS['redis']!,
  ORCHESTRATOR_DB_PATH: IGNORED_SECTIONS['database']!,
  ORCHESTRATOR_SERVICE_HOST: 'the API listens on HOST',
  ORCHESTRATOR_SERVICE_PORT: 'the API listens on PORT',
};
