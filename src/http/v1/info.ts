import type { FastifyInstance } from 'fastify';
import { publicSettings, type Config } from '../../config/config.js';
import type {
  DependencyStatus,
  HealthMonitor,
  HealthState,
  UpstreamStatus,
} from '../../upstreams/health-monitor.js';
import type { SystemSampler } from '../../metrics/system.js';
import { GatewayError } from '../../errors/catalogue.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { VERSION } from '../../version.js';

export interface V1InfoDeps {
  config: Config;
  pipeline: Pipeline;
  health: HealthMonitor;
  system: SystemSampler;
  /** Named dependency checks (redis, store, queue...), each cheap and non-blocking. */
  dependencies: () => Promise<Record<string, DependencyStatus>>;
  /** Feature flags for GET / (what this build and configuration provide). */
  features: () => Record<string, boolean>;
}

/** unhealthy: no upstream is healthy; degraded: some upstream or dependency is not healthy. */
export function overallHealth(ups: UpstreamStatus[], deps: Record<string, DependencyStatus>): HealthState {
  const healthy = ups.filter((u) => u.status === 'healthy').length;
  if (ups.length > 0 && healthy === 0) return 'unhealthy';
  if (Object.values(deps).some((d) => d.status === 'unhealthy')) return 'unhealthy';
  if (healthy < ups.length || Object.values(deps).some((d) => d.status !== 'healthy')) return 'degraded';
  return 'healthy';
}

function agentView(u: UpstreamStatus) {
  return {
    id: u.id,
    name: `${u.kind} upstream at ${u.url}`,
    kind: u.kind,
    url: u.url,
    status: u.status,
    latency_ms: u.latencyMs,
    capabilities: ['chat', 'generate', 'embed'],
    ...(u.version ? { version: u.version } : {}),
    ...(u.error ? { error: u.error } : {}),
    checked_at: u.checkedAt,
    // [routing] capacity, load, loaded models and circuit state
    slots: u.slots,
    weight: u.weight,
    load: u.outstanding,
    ...(u.models ? { models: u.models } : {}),
    loaded_models:
      u.loaded?.map((l) => ({ name: l.name, ...(l.expiresAt ? { expires_at: l.expiresAt } : {}) })) ?? null,
    breaker: {
      state: u.breaker.state,
      failures: u.breaker.failures,
      opened: u.breaker.opened,
      ...(u.breaker.retryAt ? { retry_at: u.breaker.retryAt } : {}),
      ...(u.breaker.reason ? { reason: u.breaker.reason } : {}),
    },
    retries: u.retries,
  };
}

/** GET /, /health, /api/v1/status, /api/v1/settings, /api/v1/models, /api/v1/agents[/:id]. */
export async function v1InfoRoutes(app: FastifyInstance, deps: V1InfoDeps) {
  const { config } = deps;
  const settings = publicSettings(config);

  app.get('/', async (req, reply) => {
    // Ollama's liveness probe reads plain text; everyone else gets the SutazAI description.
    const accept = req.headers.accept ?? '';
    if (accept.includes('text/plain') && !accept.includes('application/json')) {
      return reply.type('text/plain; charset=utf-8').send('Ollama is running');
    }
    return rootBody();
  });

  const rootBody = () => ({
    name: 'SutazAI',
    version: VERSION,
    description: 'Gateway for local LLM servers',
    features: deps.features(),
    apis: {
      sutazai: '/api/v1',
      openai: '/v1',
      openaiResponses: '/v1/responses',
      anthropic: '/v1/messages',
      ollama: '/api',
    },
  });

  app.get('/health', { config: { cache: { ttlS: 5 } } }, async (_req, reply) => {
    const ups = deps.health.upstreams();
    const dependencies = await deps.dependencies();
    const status = overallHealth(ups, dependencies);
    // 200 healthy/degraded (still serving), 503 unhealthy (load balancers take it out).
    void reply.code(status === 'unhealthy' ? 503 : 200);
    return {
      status,
      timestamp: new Date().toISOString(),
      version: VERSION,
      upstreams: ups.map((u) => ({
        id: u.id,
        kind: u.kind,
        status: u.status,
        latency_ms: u.latencyMs,
        ...(u.error ? { error: u.error } : {}),
        checked_at: u.checkedAt,
      })),
      dependencies,
    };
  });

  // Cached for as long as the system sampler's figures last (it samples once a second), so a
  // status page polled by many clients costs one build per second and never shows stale load.
  app.get('/api/v1/status', { config: { cache: { ttlS: 1 } } }, async () => {
    const s = deps.system.snapshot();
    return {
      status: 'operational',
      version: VERSION,
      uptime_s: s.uptimeS,
      cpu_percent: s.cpuPercent,
      host_cpu_percent: s.hostCpuPercent,
      memory_percent: s.memory.percent,
      memory: { rss_bytes: s.memory.rssBytes, heap_used_bytes: s.memory.heapUsedBytes },
      event_loop: {
        lag_p99_ms: s.eventLoop.lagP99Ms,
        lag_max_ms: s.eventLoop.lagMaxMs,
        utilization: s.eventLoop.utilization,
      },
      load_average: s.loadAverage,
      cores: s.cores,
    };
  });

  // Settings reveal internals (upstream addresses, limits): admin key only.
  app.get('/api/v1/settings', { config: { cache: { ttlS: 60 }, admin: true } }, async () => settings);

  app.get('/api/v1/models', async () => {
    const models = await deps.pipeline.listModels();
    return {
      models: models.map((m) => ({
        name: m.name,
        upstream: m.upstream,
        ...(m.modifiedAt ? { modified_at: m.modifiedAt } : {}),
        ...(m.size !== undefined ? { size: m.size } : {}),
        ...(m.details ? { details: m.details } : {}),
      })),
    };
  });

  app.get('/api/v1/agents', async () => deps.health.upstreams().map(agentView));

  app.get<{ Params: { id: string } }>('/api/v1/agents/:id', async (req) => {
    const u = deps.health.upstreams().find((x) => x.id === req.params.id);
    if (!u)
      throw new GatewayError('SUTAZAI_ERR_NOT_FOUND', `agent '${req.params.id}' not found`, { param: 'id' });
    return agentView(u);
  });
}
