import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { ADMIN_KEY, adminCreateKey, chatBody, startTestGateway } from '../auth/helpers.js';
import type { TestGateway } from '../helpers/gateway.js';
import { createOwnPostgres, havePostgresBinaries, type OwnPostgres } from '../helpers/own-postgres.js';

interface Health {
  dependencies: Record<string, { status: string; detail?: string }>;
}

/**
 * PostgreSQL goes away mid-test (a server this test starts and stops itself, never the shared
 * one): requests with cached keys keep working, usage rows are buffered and all written once it is
 * back (under the buffer bound), /health shows the store degraded; past the bound the drops are
 * counted in a metric.
 */
describe('PostgreSQL unreachable mid-test', () => {
  let pgs: OwnPostgres;
  let sim: SimHandle;
  let gw: TestGateway;
  let bounded: TestGateway;
  beforeAll(async () => {
    expect(havePostgresBinaries(), 'initdb/postgres binaries are needed (apt-get install postgresql)').toBe(
      true,
    );
    pgs = await createOwnPostgres();
    sim = await startSimulator({ port: 0, models: ['tinyllama'], tps: 0 });
    const common = {
      upstreams: [`ollama=${sim.url}`],
      authMode: 'on',
      adminKey: ADMIN_KEY,
      databaseUrl: pgs.url,
      usageFlushMs: 50,
      keyCacheMs: 300,
    };
    gw = await startTestGateway(common);
    bounded = await startTestGateway({ ...common, usageBufferRows: 100 });
  }, 90_000);
  afterAll(async () => {
    await gw?.close();
    await bounded?.close();
    await sim?.close();
    await pgs?.destroy();
  });

  const chat = (g: TestGateway, key: string, i: number) =>
    fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: chatBody('tinyllama', `q${i}`),
    });
  const usageCount = async (g: TestGateway, keyId: string) => {
    const r = await fetch(`${g.url}/api/v1/usage?key=${keyId}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    return {
      status: r.status,
      requests: ((await r.json()) as { rows: Array<{ requests: number }> }).rows[0]?.requests,
    };
  };
  const health = async (g: TestGateway) => (await (await fetch(`${g.url}/health`)).json()) as Health;

  it('no request fails, no usage row is lost under the bound, /health shows the store degraded', async () => {
    const k = await adminCreateKey(gw, { name: 'outage' });
    expect((await chat(gw, k.key, 0)).status).toBe(200); // the key is now cached
    await pgs.stop();

    const statuses: number[] = [];
    for (let i = 1; i <= 40; i++) {
      statuses.push((await chat(gw, k.key, i)).status);
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 200)); // past the key cache TTL
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    const h = await health(gw);
    expect(h.dependencies.store?.status).toBe('degraded');
    expect(h.dependencies.usage?.status).toBe('degraded');
    expect(h.dependencies.usage?.detail).toMatch(/rows buffered/);
    // A key this process never saw cannot be checked: 503, not a 200 and not a 401.
    const unknown = await chat(gw, `sk-sutazai-0123456789ab-${'x'.repeat(43)}`, 99);
    expect(unknown.status).toBe(503);
    expect(unknown.headers.get('retry-after')).toBeTruthy();

    await pgs.start();
    const end = Date.now() + 20_000;
    let count: number | undefined;
    while (Date.now() < end) {
      const u = await usageCount(gw, k.id);
      count = u.requests;
      if (u.status === 200 && count === 41) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(count).toBe(41);
    // /health is cached for 5 s: it turns healthy within that.
    const until = Date.now() + 8000;
    let state = '';
    while (Date.now() < until && state !== 'healthy') {
      state = (await health(gw)).dependencies.usage?.status ?? '';
      if (state !== 'healthy') await new Promise((r) => setTimeout(r, 250));
    }
    expect(state).toBe('healthy');
  }, 90_000);

  it('past the buffer bound, the dropped rows are counted in sutazai_usage_rows_dropped_total', async () => {
    const k = await adminCreateKey(bounded, { name: 'bounded' });
    expect((await chat(bounded, k.key, 0)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200)); // the first row is written
    await pgs.stop();
    const N = 150;
    const statuses = await Promise.all(
      Array.from({ length: N }, (_, i) => chat(bounded, k.key, i + 1).then((r) => r.status)),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    await pgs.start();
    const metrics = async () => {
      const text = await (
        await fetch(`${bounded.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
      ).text();
      return Number(/^sutazai_usage_rows_dropped_total (\d+)/m.exec(text)?.[1]);
    };
    const end = Date.now() + 20_000;
    let written = 0;
    while (Date.now() < end) {
      const u = await usageCount(bounded, k.id);
      written = u.requests ?? 0;
      if (u.status === 200 && written > 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const dropped = await metrics();
    expect(dropped).toBeGreaterThan(0);
    expect(written + dropped).toBe(N + 1);
    expect(written - 1).toBeLessThanOrEqual(100);
  }, 90_000);
});
