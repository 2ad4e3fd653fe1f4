import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import { getJson, waitFor } from '../helpers/http.js';
import { received, startFleet, type Fleet } from './fleet.js';

describe('health and failover over real simulators', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('a killed upstream is ejected with zero failed requests, and readmitted when it is back', async () => {
    fleet = await startFleet(
      [{ sim: { tps: 500, defaultTokens: 20 } }, { sim: { tps: 500, defaultTokens: 20 } }],
      { healthIntervalMs: 5000 }, // passive observation must do the ejecting, not the probe
    );
    const f = fleet;
    const [a] = f.sims;
    const port = a!.port;
    const statuses: number[] = [];
    let stop = false;
    // 8 closed-loop clients, non-streaming, through the kill and the restart.
    const clients = Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; !stop; i++) statuses.push((await f.chat('llama3.2', `client ${c} #${i}`)).status);
    });
    await waitFor(() => statuses.length >= 40, 5000, 'traffic on both');
    expect(Math.min(...received(f.sims))).toBeGreaterThan(0);

    const killedAt = Date.now();
    await a!.close();
    // Ejected within a second of the failure: /api/v1/agents, /health and routing agree.
    await waitFor(async () => (await f.agents())[0]?.breaker.state !== 'closed', 1000, 'ejected');
    const ejectedMs = Date.now() - killedAt;
    const health = await getJson(`${f.gw.url}/health`);
    expect(health.json.status).toBe('degraded');
    const b = f.sims[1]!;
    const before = b.stats().requests['/api/chat'] ?? 0;
    await waitFor(
      () => (b.stats().requests['/api/chat'] ?? 0) >= before + 40,
      5000,
      'traffic on the survivor',
    );

    // Back on the same port: a half-open probe readmits it within the breaker's max backoff (1 s ± 20%).
    const revived = await startSimulator({
      port,
      models: ['llama3.2'],
      embedModels: [],
      tps: 500,
      defaultTokens: 20,
    });
    f.sims[0] = revived;
    const backAt = Date.now();
    await waitFor(async () => (await f.agents())[0]?.breaker.state === 'closed', 3000, 'readmitted');
    const readmittedMs = Date.now() - backAt;
    await waitFor(
      () => (revived.stats().requests['/api/chat'] ?? 0) > 5,
      3000,
      'traffic back on the revived one',
    );
    stop = true;
    await Promise.all(clients);

    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(ejectedMs).toBeLessThan(1000);
    expect(readmittedMs).toBeLessThan(1500);
    const agent = (await f.agents())[0]!;
    expect(agent.breaker.opened).toBeGreaterThanOrEqual(1);
    expect(agent.status).toBe('healthy');
  });

  it("retries an upstream's 503 (queue full) on another upstream; metrics count it", async () => {
    fleet = await startFleet([{}, {}]);
    const f = fleet;
    f.sims[0]!.setFaults({ failNext: 3, failNextStatus: 503 });
    f.sims[1]!.setFaults({ failNext: 0 });
    // Sequential requests go to u0 (ties go to the first listed); its three 503s land on u1.
    for (let i = 0; i < 6; i++) expect((await f.chat('llama3.2', `busy ${i}`)).status).toBe(200);
    expect(received(f.sims)).toEqual([6, 3]);
    // A busy upstream is not a dead one: its circuit stays closed.
    expect((await f.agents()).map((a) => [a.breaker.state, a.retries])).toEqual([
      ['closed', 3],
      ['closed', 0],
    ]);
    const metrics = await (await fetch(`${f.gw.url}/metrics`)).text();
    expect(metrics).toMatch(/sutazai_upstream_retries_total\{upstream="u0"\} 3/);
    expect(metrics).toMatch(/sutazai_upstream_breaker_state\{upstream="u0",state="closed"\} 1/);
  });

  it('every upstream down → 503 at once, naming each circuit, with Retry-After', async () => {
    fleet = await startFleet([{}, {}]);
    const f = fleet;
    await waitFor(async () => (await f.agents()).every((a) => a.status === 'healthy'), 3000, 'healthy');
    await Promise.all(f.sims.map((s) => s.close()));
    // The first request finds both refusing (each opens its circuit), the next ones are refused at once.
    const first = await f.chat('llama3.2', 'anyone?');
    expect(first.status).toBe(503);
    const started = performance.now();
    const r = await f.chat('llama3.2', 'anyone at all?');
    const tookMs = performance.now() - started;
    expect(r.status).toBe(503);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(r.text).toMatch(/no healthy upstream serves model 'llama3.2'.*u0: circuit (open|half-open).*u1/);
    expect(tookMs).toBeLessThan(100);
    const v1 = await fetch(`${f.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(v1.status).toBe(503);
    expect(v1.headers.get('retry-after')).toBeTruthy();
    f.sims.length = 0; // closed already
  });
});
