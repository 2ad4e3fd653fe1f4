import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { getJson } from '../helpers/http.js';

let a: SimHandle;
let b: SimHandle;
let gw: TestGateway;
beforeAll(async () => {
  // Many models, so the merged model list is larger than the 1 KB compression threshold.
  const many = Array.from({ length: 40 }, (_, i) => `model-${i}`);
  a = await startSimulator({ port: 0, models: ['tinyllama', ...many], embedModels: [] });
  b = await startSimulator({ port: 0, models: ['qwen2:0.5b'], embedModels: ['nomic-embed-text'] });
  gw = await startTestGateway({
    upstreams: [`ollama=${a.url}`, `openai=${b.url}/v1`],
    upstreamApiKey: 'sk-never-shown',
  });
  await gw.services.health.refresh();
});
afterAll(async () => {
  await gw.close();
  await a.close();
  await b.close();
});

describe('info routes', () => {
  it('GET / names the service and its features', async () => {
    const r = await getJson(`${gw.url}/`);
    expect(r.status).toBe(200);
    expect(r.json.name).toBe('SutazAI');
    expect(typeof r.json.version).toBe('string');
    expect(r.json.features).toMatchObject({ streaming: true });
  });

  it('GET / answers an Ollama-style liveness probe in plain text', async () => {
    const res = await fetch(`${gw.url}/`, { headers: { accept: 'text/plain' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('Ollama is running');
    const head = await fetch(`${gw.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('GET /health reports each upstream', async () => {
    const r = await getJson(`${gw.url}/health`);
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('healthy');
    const ups = r.json.upstreams as Array<{ kind: string; status: string }>;
    expect(ups.map((u) => u.kind).sort()).toEqual(['ollama', 'openai']);
    expect(ups.every((u) => u.status === 'healthy')).toBe(true);
  });

  it('GET /health is degraded (still 200) when one of two upstreams is down', async () => {
    const g2 = await startTestGateway({ upstreams: [`ollama=${a.url}`, 'ollama=http://127.0.0.1:9'] });
    try {
      await g2.services.health.refresh();
      const r = await getJson(`${g2.url}/health`);
      expect(r.status).toBe(200);
      expect(r.json.status).toBe('degraded');
    } finally {
      await g2.close();
    }
  });

  it('GET /api/v1/models merges models from every upstream', async () => {
    const r = await getJson(`${gw.url}/api/v1/models`);
    const names = (r.json.models as Array<{ name: string }>).map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['tinyllama:latest', 'qwen2:0.5b']));
  });

  it('GET /api/v1/status samples CPU and memory without blocking', async () => {
    const r = await getJson(`${gw.url}/api/v1/status`);
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('operational');
    expect(typeof r.json.cpu_percent).toBe('number');
    expect(typeof r.json.memory_percent).toBe('number');
    expect(typeof r.json.uptime_s).toBe('number');
    // Event-loop delay of the last sampled second: p99 and the worst single delay.
    const loop = r.json.event_loop as { lag_p99_ms: number; lag_max_ms: number; utilization: number };
    expect(loop.lag_max_ms).toBeGreaterThanOrEqual(loop.lag_p99_ms);
    expect(loop.utilization).toBeGreaterThanOrEqual(0);
  });

  it('GET /api/v1/status is at most about a second old (the sampler refreshes every second)', async () => {
    const a = await getJson(`${gw.url}/api/v1/status`);
    await new Promise((r) => setTimeout(r, 1300));
    const b = await getJson(`${gw.url}/api/v1/status`);
    expect(b.json.uptime_s as number).toBeGreaterThan(a.json.uptime_s as number);
  });

  it('GET /api/v1/settings shows effective config without secrets', async () => {
    const r = await getJson(`${gw.url}/api/v1/settings`);
    expect(r.status).toBe(200);
    expect(r.json.port).toBe(0);
    expect(JSON.stringify(r.json)).not.toContain('sk-never-shown');
  });

  it('GET /api/v1/agents lists upstreams with health; unknown id → 404', async () => {
    const r = await getJson(`${gw.url}/api/v1/agents`);
    const list = r.json as unknown as Array<{ id: string; status: string }>;
    expect(list).toHaveLength(2);
    const one = await getJson(`${gw.url}/api/v1/agents/${encodeURIComponent(list[0]?.id ?? '')}`);
    expect(one.status).toBe(200);
    const missing = await getJson(`${gw.url}/api/v1/agents/nope`);
    expect(missing.status).toBe(404);
  });

  it('compresses large JSON bodies when asked', async () => {
    const res = await fetch(`${gw.url}/api/v1/models`, { headers: { 'accept-encoding': 'gzip' } });
    // fetch decompresses transparently; the header shows what was sent.
    const size = JSON.stringify(await res.json()).length;
    expect(size).toBeGreaterThan(1024);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const small = await fetch(`${gw.url}/api/v1/agents/nope`, { headers: { 'accept-encoding': 'gzip' } });
    expect(small.headers.get('content-encoding')).toBeNull();
  });
});
