import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, startTestGateway, type Stack, type TestGateway } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('upstream trouble maps to precise statuses', () => {
  let s: Stack;
  let down: TestGateway;
  beforeAll(async () => {
    s = await startStack({ sim: { parallel: 1 }, gateway: { cacheMode: 'off', timeoutMs: 300 } });
    down = await startTestGateway({ upstreams: [`ollama=http://127.0.0.1:${await closedPort()}`] });
  });
  afterAll(async () => {
    await s.close();
    await down.close();
  });

  it('upstream unreachable → 503 with Retry-After', async () => {
    const r = await postJson(`${down.url}/api/v1/chat`, { message: 'hi' });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBeTruthy();
    expect(r.json.error?.code).toBe('SUTAZAI_ERR_UPSTREAM_UNAVAILABLE');
  });

  it('health reads unhealthy (503) when the only upstream is down', async () => {
    await down.services.health.refresh();
    const res = await fetch(`${down.url}/health`);
    expect(res.status).toBe(503);
    const b = (await res.json()) as { status: string; upstreams: Array<{ status: string }> };
    expect(b.status).toBe('unhealthy');
    expect(b.upstreams[0]?.status).toBe('unhealthy');
  });

  it('upstream timeout → 504', async () => {
    s.sim.setFaults({ slowHeadersMs: 2000 });
    const r = await postJson(`${s.gw.url}/api/v1/chat`, { message: 'slow one' });
    s.sim.setFaults({ slowHeadersMs: 0 });
    expect(r.status).toBe(504);
    expect(r.json.error?.code).toBe('SUTAZAI_ERR_UPSTREAM_TIMEOUT');
  });

  it("upstream's own 503 (queue full) → 503 with Retry-After", async () => {
    s.sim.setFaults({ failNext: 1, failNextStatus: 503 });
    const r = await postJson(`${s.gw.url}/api/v1/chat`, { message: 'busy?' });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBeTruthy();
    expect(r.json.error?.code).toBe('SUTAZAI_ERR_UPSTREAM_BUSY');
  });

  it('upstream 500 → 502, never a 200 with error text', async () => {
    s.sim.setFaults({ errorRate: 1 });
    const r = await postJson(`${s.gw.url}/api/v1/chat`, { message: 'fail' });
    s.sim.setFaults({ errorRate: 0 });
    expect(r.status).toBe(502);
    expect(r.json.error?.code).toBe('SUTAZAI_ERR_UPSTREAM_ERROR');
    expect(r.json.response).toBeUndefined();
  });
});
