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
    doc: 'Upstream list, `KIND=URL[;slots=N;weight=W;models=a|b;warm=a|b;id=NAME]` comma-separated (env) or repeated `--upstream` flags; KIND is `ollama` or `openai` (URL with /v1). See docs/upstreams.md.',
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
    schema: int(0).default(0),
    doc: 'Whole-call limit for one upstream call, streamed or not (ms; 0 = none, the default): long answers are bounded by the time-to-first-token and inter-token limits instead.',
  },
  streamIdleTimeoutMs: {
    env: 'SUTAZAI_STREAM_IDLE_TIMEOUT_MS',
    flag: 'stream-idle-timeout-ms',
    schema: int(1).default(30000),
    doc: 'Max silence between upstream stream chunks, i.e. between tokens (ms).',
  },
  modelRefreshMs: {
    env: 'SUTAZAI_MODEL_REFRESH_MS',
    flag: 'model-refresh-ms',
    schema: int(100).default(10000),
    doc: 'How often upstream model lists are refreshed (ms).',
  },
  // [routing] upstream capacity, health, failover, timeouts, warm models (issue 20)
  upstreamsFile: {
    env: 'SUTAZAI_UPSTREAMS_FILE',
    flag: 'upstreams-file',
    schema: z.string().min(1).optional(),
    doc: 'JSON file listing upstreams (`{"upstreams":[{"kind","url","slots","weight","models","warm","id"}]}`), added to SUTAZAI_UPSTREAMS; see docs/upstreams.md.',
  },
  upstreamSlots: {
    env: 'SUTAZAI_UPSTREAM_SLOTS',
    flag: 'upstream-slots',
    schema: int(1, 4096).default(4),
    doc: 'Default generations an upstream runs at once (OLLAMA_NUM_PARALLEL, llama.cpp -np); per upstream `;slots=N`.',
  },
  ttftTimeoutMs: {
    env: 'SUTAZAI_TTFT_TIMEOUT_MS',
    flag: 'ttft-timeout-ms',
    schema: int(1).default(120000),
    doc: 'Max time from sending a streamed upstream call to its first token (ms; includes a model load).',
  },
  healthIntervalMs: {
    env: 'SUTAZAI_HEALTH_INTERVAL_MS',
    flag: 'health-interval-ms',
    schema: int(100).default(2000),
    doc: 'How often every upstream is probed, all in parallel (ms).',
  },
  healthTimeoutMs: {
    env: 'SUTAZAI_HEALTH_TIMEOUT_MS',
    flag: 'health-timeout-ms',
    schema: int(50).default(2000),
    doc: 'Limit for one health probe (ms).',
  },
  breakerFailures: {
    env: 'SUTAZAI_BREAKER_FAILURES',
    flag: 'breaker-failures',
    schema: int(1, 1000).default(3),
    doc: 'Consecutive failed calls (timeouts, resets, 5xx) that open an upstream circuit; a refused connection or failed probe opens it at once.',
  },
  breakerBackoffMs: {
    env: 'SUTAZAI_BREAKER_BACKOFF_MS',
    flag: 'breaker-backoff-ms',
    schema: int(10).default(250),
    doc: 'First wait before an open circuit is probed again (ms); doubles on each failed probe.',
  },
  breakerMaxBackoffMs: {
    env: 'SUTAZAI_BREAKER_MAX_BACKOFF_MS',
    flag: 'breaker-max-backoff-ms',
    schema: int(10).default(1000),
    doc: 'Longest wait between probes of an open circuit (ms): bounds how late a recovered upstream is readmitted.',
  },
  upstreamRetries: {
    env: 'SUTAZAI_UPSTREAM_RETRIES',
    flag: 'upstream-retries',
    schema: int(0, 10).default(2),
    doc: 'Retries on another upstream for a call that failed before any byte reached the client (connection refused/reset, 503/429 busy, connect timeout).',
  },
  warmModels: {
    env: 'SUTAZAI_WARM_MODELS',
    flag: 'warm-model',
    schema: z.array(z.string()).default([]),
    doc: 'Models preloaded at start on every Ollama upstream that lists them and kept resident (`keep_alive: -1`); per upstream `;warm=a|b`.',
  },
  // [/routing]
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
  // [dropin: sampling-aware cache policy, issue 22 item 3]
  cacheSampledOpenai: {
    env: 'SUTAZAI_CACHE_SAMPLED_OPENAI',
    flag: 'cache-sampled-openai',
    schema: z.enum(['merge', 'cache']).default('merge'),
    doc: 'OpenAI surface (`/v1/*`), sampled requests (temperature not 0 and no seed): `merge` = never cached, only identical requests in flight together share one call (so "regenerate" gets a new answer); `cache` = cached by prompt like deterministic ones.',
  },
  cacheSampledOllama: {
    env: 'SUTAZAI_CACHE_SAMPLED_OLLAMA',
    flag: 'cache-sampled-ollama',
    schema: z.enum(['merge', 'cache']).default('merge'),
    doc: 'Ollama surface (`/api/*`), sampled requests: `merge` or `cache` (see SUTAZAI_CACHE_SAMPLED_OPENAI).',
  },
  cacheSampledV1: {
    env: 'SUTAZAI_CACHE_SAMPLED_V1',
    flag: 'cache-sampled-v1',
    schema: z.enum(['merge', 'cache']).default('cache'),
    doc: 'v1 API (`/api/v1/*`) and tasks, sampled requests: `cache` (by prompt, the default) or `merge`.',
  },
  llmBodyLimit: {
    env: 'SUTAZAI_LLM_BODY_LIMIT',
    flag: 'llm-body-limit',
    schema: int(1024).default(50 * 1024 * 1024),
    doc: 'Max request body in bytes on the generation routes (`/api/chat`, `/api/generate`, `/v1/chat/completions`, `/v1/completions`), which carry base64 images (larger → 413). Every other route keeps SUTAZAI_BODY_LIMIT.',
  },
  // [/dropin]
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
  // [admission] the gateway's wait queue per model: bounds, lanes, keep-alives (issue 20, src/admission/)
  queueTimeoutMs: {
    env: 'SUTAZAI_QUEUE_TIMEOUT_MS',
    flag: 'queue-timeout-ms',
    schema: int(0, 3_600_000).default(10000),
    doc: 'Longest expected wait for a slot (ms) of an interactive request; one that cannot start within it is answered 503 at once, with Retry-After from the measured service rate and the queue ahead.',
  },
  queueBatchTimeoutMs: {
    env: 'SUTAZAI_QUEUE_BATCH_TIMEOUT_MS',
    flag: 'queue-batch-timeout-ms',
    schema: int(0, 3_600_000).default(60000),
    doc: 'The same bound (ms) for v1 batch items and background tasks, which wait behind interactive requests.',
  },
  queueMax: {
    env: 'SUTAZAI_QUEUE_MAX',
    flag: 'queue-max',
    schema: int(0, 1_000_000).default(1000),
    doc: 'Most requests waiting for one model, all lanes together; beyond it, 503 at once.',
  },
  queueInteractiveReserve: {
    env: 'SUTAZAI_QUEUE_INTERACTIVE_RESERVE',
    flag: 'queue-interactive-reserve',
    schema: num(0, 1).default(0.25),
    doc: "Share of a model's slots that batch items and background tasks never take, so interactive requests start at once (rounded up; a model with one slot reserves none).",
  },
  admissionProcesses: {
    env: 'SUTAZAI_ADMISSION_PROCESSES',
    flag: 'admission-processes',
    schema: int(1, 1024).default(1),
    doc: "Gateway processes sharing the same upstreams: each schedules 1/N of every model's slots (rounded down, at least 1). See docs/admission.md.",
  },
  streamKeepAliveMs: {
    env: 'SUTAZAI_STREAM_KEEPALIVE_MS',
    flag: 'stream-keepalive-ms',
    schema: int(0, 600_000).default(5000),
    doc: 'A stream that waits for a slot or its first token gets its headers early and, on SSE surfaces, a `: keep-alive` comment this often (ms; 0 = no comments). NDJSON streams get no extra bytes.',
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
  // [keys] API keys, per-key limits and the usage log (issue 21)
  authMode: {
    env: 'SUTAZAI_AUTH',
    flag: 'auth',
    schema: z.enum(['auto', 'on', 'off']).default('auto'),
    doc: 'API keys: `auto` = required unless bound to a loopback address, `on` = always required, `off` = never (warns when the address is reachable from elsewhere).',
  },
  adminKey: {
    env: 'SUTAZAI_ADMIN_KEY',
    flag: 'admin-key',
    schema: z.string().min(16, 'must be at least 16 characters').optional(),
    doc: 'Admin key: manages keys (/api/v1/admin/*), clears the cache, reads settings and all usage (secret; never shown).',
  },
  keyCacheMs: {
    env: 'SUTAZAI_KEY_CACHE_MS',
    flag: 'key-cache-ms',
    schema: int(100, 600_000).default(5000),
    doc: 'How long a process trusts a looked-up key before reading it again (ms): the longest a revocation takes without Redis (with REDIS_URL it is announced at once).',
  },
  cachePerKey: {
    env: 'SUTAZAI_CACHE_PER_KEY',
    flag: 'cache-per-key',
    schema: bool.default(false),
    doc: 'Response cache per API key (true) or shared by every key for identical requests (false).',
  },
  usageLog: {
    env: 'SUTAZAI_USAGE_LOG',
    flag: 'usage-log',
    schema: z.enum(['auto', 'on', 'off']).default('auto'),
    doc: 'One row per LLM request in the SQL store (no prompts or answers): `auto` = when API keys are required.',
  },
  usageBufferRows: {
    env: 'SUTAZAI_USAGE_BUFFER_ROWS',
    flag: 'usage-buffer-rows',
    schema: int(100).default(100_000),
    doc: 'Usage rows held in memory while the store is unreachable; beyond it the oldest are dropped (counted in sutazai_usage_rows_dropped_total).',
  },
  usageFlushMs: {
    env: 'SUTAZAI_USAGE_FLUSH_MS',
    flag: 'usage-flush-ms',
    schema: int(10, 60_000).default(1000),
    doc: 'How often buffered usage rows are written (ms).',
  },
  // [perf] every core and the accept queue (issue 24)
  processes: {
    env: 'SUTAZAI_PROCESSES',
    flag: 'processes',
    schema: z.union([z.literal('auto'), int(1, 256)]).default(1),
    doc: '`sutazai serve` worker processes sharing the port (node:cluster); `auto` = one per CPU core. More than 1 needs DATABASE_URL (the embedded PGlite store opens in one process only); L1 cache and request merging stay per process (see docs/deployment.md).',
  },
  listenBacklog: {
    env: 'SUTAZAI_LISTEN_BACKLOG',
    flag: 'listen-backlog',
    schema: int(1, 65535).default(4096),
    doc: 'Accept queue length of the listening socket (the kernel caps it at net.core.somaxconn): a burst of new connections beyond it waits for SYN retransmits (1 s, 3 s…).',
  },
} satisfies Record<string, FieldSpec>;

export type FieldName = keyof typeof FIELDS;
/** Names of fields that hold lists (comma-separated in env, repeatable as flags). */
export const LIST_FIELDS: ReadonlySet<string> = new Set([
  'upstreams',
  'warmModels',
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
  'adminKey',
]);
