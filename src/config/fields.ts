import { z } from 'zod';

/**
 * Every setting, once: environment variable, CLI flag, schema, default and a one-line doc.
 * The README configuration table is generated from this list (`npm run docs:config`).
 */
export interface FieldSpec<T extends z.ZodType = z.ZodType> {
  env: string;
  flag: string;
  schema: T;
  doc: string;
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes' || v === 'on');
const url = z.url({ protocol: /^https?$/ });
const optionalUrl = z.union([z.literal(''), z.url()]).transform((v) => (v === '' ? undefined : v));

export const FIELDS = {
  host: {
    env: 'SUTAZAI_HOST',
    flag: 'host',
    schema: z.string().min(1).default('127.0.0.1'),
    doc: 'Address to listen on.',
  },
  port: {
    env: 'SUTAZAI_PORT',
    flag: 'port',
    schema: int(0, 65535).default(10010),
    doc: 'Port to listen on (0 = any free port).',
  },
  ollamaUrl: {
    env: 'OLLAMA_URL',
    flag: 'ollama-url',
    schema: url.default('http://127.0.0.1:11434'),
    doc: 'Single Ollama upstream (used when no upstream list is given).',
  },
  upstreams: {
    env: 'SUTAZAI_UPSTREAMS',
    flag: 'upstream',
    schema: z.array(z.string()).default([]),
    doc: 'Upstream list, `KIND=URL` comma-separated (env) or repeated `--upstream` flags; KIND is `ollama` or `openai` (URL with /v1).',
  },
  upstreamApiKey: {
    env: 'SUTAZAI_UPSTREAM_API_KEY',
    flag: 'upstream-api-key',
    schema: z.string().optional(),
    doc: 'Bearer key sent to OpenAI-compatible upstreams (secret; never shown).',
  },
  upstreamConnections: {
    env: 'SUTAZAI_UPSTREAM_CONNECTIONS',
    flag: 'upstream-connections',
    schema: int(1, 65535).default(256),
    doc: 'Max keep-alive connections per upstream.',
  },
  connectTimeoutMs: {
    env: 'SUTAZAI_CONNECT_TIMEOUT_MS',
    flag: 'connect-timeout-ms',
    schema: int(1).default(5000),
    doc: 'Upstream TCP connect timeout (ms).',
  },
  timeoutMs: {
    env: 'SUTAZAI_TIMEOUT_MS',
    flag: 'timeout-ms',
    schema: int(1).default(30000),
    doc: 'Upstream total timeout (ms): whole non-streaming call, or time to first token when streaming.',
  },
  streamIdleTimeoutMs: {
    env: 'SUTAZAI_STREAM_IDLE_TIMEOUT_MS',
    flag: 'stream-idle-timeout-ms',
    schema: int(1).default(30000),
    doc: 'Max silence between upstream stream chunks (ms).',
  },
  modelRefreshMs: {
    env: 'SUTAZAI_MODEL_REFRESH_MS',
    flag: 'model-refresh-ms',
    schema: int(100).default(10000),
    doc: 'How often upstream model lists are refreshed (ms).',
  },
  bodyLimit: {
    env: 'SUTAZAI_BODY_LIMIT',
    flag: 'body-limit',
    schema: int(1024).default(1048576),
    doc: 'Max request body size in bytes (larger → 413).',
  },
  requestTimeoutMs: {
    env: 'SUTAZAI_REQUEST_TIMEOUT_MS',
    flag: 'request-timeout-ms',
    schema: int(1000).default(60000),
    doc: 'Time a client has to send a whole request (ms; its headers: at most 10 s of it); slower → 408 and the connection closed.',
  },
  embedMaxInputs: {
    env: 'SUTAZAI_EMBED_MAX_INPUTS',
    flag: 'embed-max-inputs',
    schema: int(1).default(256),
    doc: 'Most inputs in one embedding request (more → 400). Answers grow with inputs × dimensions: 256 × 768 floats is ~2 MB of JSON.',
  },
  embedMaxBytes: {
    env: 'SUTAZAI_EMBED_MAX_BYTES',
    flag: 'embed-max-bytes',
    schema: int(1).default(1048576),
    doc: 'Most bytes of text, summed over the inputs, in one embedding request (more → 413).',
  },
  maxJsonDepth: {
    env: 'SUTAZAI_MAX_JSON_DEPTH',
    flag: 'max-json-depth',
    schema: int(2).default(64),
    doc: 'Deepest nesting of objects/arrays accepted in a JSON body (deeper → 400).',
  },
  logLevel: {
    env: 'SUTAZAI_LOG_LEVEL',
    flag: 'log-level',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    doc: 'Log level (pino).',
  },
  logPrompts: {
    env: 'SUTAZAI_LOG_PROMPTS',
    flag: 'log-prompts',
    schema: bool.default(false),
    doc: 'Include prompt text in debug logs (off by default).',
  },
  shutdownGraceMs: {
    env: 'SUTAZAI_SHUTDOWN_GRACE_MS',
    flag: 'shutdown-grace-ms',
    schema: int(0).default(10000),
    doc: 'On SIGTERM, how long in-flight requests may finish (ms).',
  },
  drainDelayMs: {
    env: 'SUTAZAI_DRAIN_DELAY_MS',
    flag: 'drain-delay-ms',
    schema: int(0).default(0),
    doc: 'On SIGTERM, how long a gateway keeps serving with /ready answering 503 before it stops accepting, so load balancers polling /ready stop routing to it first (ms).',
  },
  defaultModel: {
    env: 'SUTAZAI_DEFAULT_MODEL',
    flag: 'default-model',
    schema: z.string().min(1).default('tinyllama'),
    doc: 'Model used by /api/v1/* when a request names none.',
  },
  defaultNumPredict: {
    env: 'SUTAZAI_DEFAULT_NUM_PREDICT',
    flag: 'default-num-predict',
    schema: int(1).default(150),
    doc: 'Default max new tokens for /api/v1/* requests.',
  },
  defaultTemperature: {
    env: 'SUTAZAI_DEFAULT_TEMPERATURE',
    flag: 'default-temperature',
    schema: num(0, 2).default(0.7),
    doc: 'Default temperature for /api/v1/* requests.',
  },
  batchConcurrency: {
    env: 'SUTAZAI_BATCH_CONCURRENCY',
    flag: 'batch-concurrency',
    schema: int(1, 1000).default(10),
    doc: 'Concurrent upstream calls per /api/v1/batch request.',
  },
  batchMaxItems: {
    env: 'SUTAZAI_BATCH_MAX_ITEMS',
    flag: 'batch-max-items',
    schema: int(1, 100000).default(100),
    doc: 'Max prompts in one /api/v1/batch request (more → 400).',
  },
  redisUrl: {
    env: 'REDIS_URL',
    flag: 'redis-url',
    schema: optionalUrl.optional(),
    doc: 'Redis for the shared cache (L2) and the task queue. Unset = in-process only.',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    flag: 'database-url',
    schema: optionalUrl.optional(),
    doc: 'PostgreSQL for durable state. Unset = embedded PGlite in the data dir.',
  },
  dataDir: {
    env: 'SUTAZAI_DATA_DIR',
    flag: 'data-dir',
    schema: z.string().min(1).default('./data'),
    doc: 'Directory for embedded storage.',
  },
  cacheMode: {
    env: 'SUTAZAI_CACHE_MODE',
    flag: 'cache-mode',
    schema: z.enum(['all', 'deterministic', 'off']).default('all'),
    doc: 'Which LLM responses are cached: all, only deterministic ones (temperature 0 or fixed seed), or none.',
  },
  cacheTtlS: {
    env: 'SUTAZAI_CACHE_TTL_S',
    flag: 'cache-ttl-s',
    schema: int(1).default(3600),
    doc: 'Response cache TTL (s).',
  },
  cacheMaxBytes: {
    env: 'SUTAZAI_CACHE_MAX_BYTES',
    flag: 'cache-max-bytes',
    schema: int(0).default(64 * 1024 * 1024),
    doc: 'L1 in-process cache size bound in bytes (0 disables L1).',
  },
  cachePrefix: {
    env: 'SUTAZAI_CACHE_PREFIX',
    flag: 'cache-prefix',
    schema: z.string().min(1).default('sutazai:'),
    doc: 'Namespace prefix for every Redis key this gateway writes.',
  },
  redisTimeoutMs: {
    env: 'SUTAZAI_REDIS_TIMEOUT_MS',
    flag: 'redis-timeout-ms',
    schema: int(1).default(50),
    doc: 'Per-operation Redis cache timeout (ms); slower = treated as a miss, Redis marked degraded.',
  },
  taskConcurrency: {
    env: 'SUTAZAI_TASK_CONCURRENCY',
    flag: 'task-concurrency',
    schema: int(0, 1000).default(5),
    doc: 'Background task workers in this process (0 = accept tasks only).',
  },
  workerNice: {
    env: 'SUTAZAI_WORKER_NICE',
    flag: 'worker-nice',
    schema: int(-20, 19).default(19),
    doc: 'CPU priority (nice, -20..19) a `sutazai worker` process gives itself: above 0, gateways on the same machine answer first while workers are busy; 0 = unchanged. Going below the current value needs privileges.',
  },
  taskAttempts: {
    env: 'SUTAZAI_TASK_ATTEMPTS',
    flag: 'task-attempts',
    schema: int(1, 100).default(3),
    doc: 'Attempts per task for transient failures.',
  },
  taskBackoffMs: {
    env: 'SUTAZAI_TASK_BACKOFF_MS',
    flag: 'task-backoff-ms',
    schema: int(0).default(2000),
    doc: 'Base of the exponential retry backoff (ms).',
  },
  taskRetentionS: {
    env: 'SUTAZAI_TASK_RETENTION_S',
    flag: 'task-retention-s',
    schema: int(1).default(3600),
    doc: 'Finished jobs are trimmed from Redis after this age (s); results stay in SQL.',
  },
  callbackAllowedHosts: {
    env: 'SUTAZAI_CALLBACK_ALLOWED_HOSTS',
    flag: 'callback-allowed-hosts',
    schema: z.array(z.string()).default([]),
    doc: 'Hosts (host or host:port) that task callback_url may target; empty = callbacks disabled.',
  },
  metricsEnabled: {
    env: 'SUTAZAI_METRICS',
    flag: 'metrics',
    schema: bool.default(true),
    doc: 'Metrics, alerts and the dashboard (/metrics, /api/v1/metrics, /api/v1/alerts, /dashboard); off = no per-request instrumentation.',
  },
  alertIntervalMs: {
    env: 'SUTAZAI_ALERT_INTERVAL_MS',
    flag: 'alert-interval-ms',
    schema: int(100).default(2000),
    doc: 'How often alert rules are evaluated (ms); an alert fires after 2 breaching evaluations in a row and clears after 3 good ones.',
  },
  alertWindowS: {
    env: 'SUTAZAI_ALERT_WINDOW_S',
    flag: 'alert-window-s',
    schema: int(1, 900).default(60),
    doc: 'Sliding window the latency and error-rate alert rules look at (s).',
  },
  alertThresholds: {
    env: 'SUTAZAI_ALERT_THRESHOLDS',
    flag: 'alert-threshold',
    schema: z.array(z.string()).default([]),
    doc: 'Alert thresholds, `NAME=WARNING/CRITICAL` (comma-separated or repeated flags; `off` disables one): added_latency_ms (default 100/500), ttft_ms (2000/10000), error_rate_percent (1/5), queue_wait_ms (10000/60000), event_loop_lag_ms (200/1000), latency_ms, host_cpu_percent, host_memory_percent (off by default).',
  },
  alertWebhookUrl: {
    env: 'SUTAZAI_ALERT_WEBHOOK_URL',
    flag: 'alert-webhook-url',
    schema: optionalUrl.optional(),
    doc: 'Optional URL that receives each alert event as a JSON POST (secret; never shown).',
  },
  // [reliab] browser origins, Host names and CORS (issue 23, finding 10; src/http/origin-guard.ts)
  allowedOrigins: {
    env: 'SUTAZAI_ORIGINS',
    flag: 'origins',
    schema: z.array(z.string()).default([]),
    doc: "Browser origins (`scheme://host[:port]`, `*` wildcards, like OLLAMA_ORIGINS) that may send state-changing requests and get CORS headers; the gateway's own origin always may. Empty = CORS closed, cross-site POSTs refused (403).",
  },
  allowedHosts: {
    env: 'SUTAZAI_ALLOWED_HOSTS',
    flag: 'allowed-hosts',
    schema: z.array(z.string()).default([]),
    doc: 'Host names accepted in the Host header besides loopback ones (against DNS rebinding; checked when bound to loopback or when this list is set; `*` = no check).',
  },
  // [reliab] SSRF guard for task callbacks (src/queue/ssrf.ts)
  callbackAllowPrivate: {
    env: 'SUTAZAI_CALLBACK_ALLOW_PRIVATE',
    flag: 'callback-allow-private',
    schema: bool.default(false),
    doc: 'Let callback host names (from SUTAZAI_CALLBACK_ALLOWED_HOSTS) resolve to loopback, private or link-local (169.254.x) addresses; off = refused (SSRF). Addresses written in the list are allowed as written.',
  },
  // [reliab] queue recovery from the SQL task records (issue 23, finding 9; src/queue/reconcile.ts)
  taskReconcileMs: {
    env: 'SUTAZAI_TASK_RECONCILE_MS',
    flag: 'task-reconcile-ms',
    schema: int(100).default(5000),
    doc: 'How often the task queue is checked for lost data (Redis restarted empty); tasks SQL records as queued are then re-enqueued (ms).',
  },
} satisfies Record<string, FieldSpec>;

export type FieldName = keyof typeof FIELDS;
/** Names of fields that hold lists (comma-separated in env, repeatable as flags). */
export const LIST_FIELDS: ReadonlySet<string> = new Set([
  'upstreams',
  'callbackAllowedHosts',
  'alertThresholds',
  'allowedOrigins',
  'allowedHosts',
]);
/** Never echoed by /api/v1/settings or logs. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set([
  'upstreamApiKey',
  'redisUrl',
  'databaseUrl',
  'alertWebhookUrl',
]);
