import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { startTestGateway, TEST_REDIS_URL, type TestGateway } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';
import { eventually, metricsView } from './helpers.js';
import { missing } from '../helpers/services.js';

/** Two gateways sharing one Redis prefix stand for two processes behind a load balancer. */
describe.skipIf(missing('redis'))('metrics combined across processes via Redis', () => {
  const prefix = `sutazai-test-metrics-${randomBytes(4).toString('hex')}:`;
  let sim: SimHandle;
  let a: TestGateway;
  let b: TestGateway;
  let dirs: string[] = [];
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });

  beforeAll(async () => {
    await redis.connect(); // fails the suite when Redis is unreachable
    sim = await startSimulator({ port: 0, models: ['tinyllama'] });
    dirs = await Promise.all([0, 1].map(() => mkdtemp(path.join(tmpdir(), 'sutazai-metrics-'))));
    const common = {
      upstreams: [`ollama=${sim.url}`],
      redisUrl: TEST_REDIS_URL,
      cachePrefix: prefix,
      taskConcurrency: 0,
    };
    a = await startTestGateway({ ...common, dataDir: dirs[0] });
    b = await startTestGateway({ ...common, dataDir: dirs[1] });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await sim?.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('sums both processes’ traffic in /api/v1/metrics and lists both processes', async () => {
    const send = async (gw: TestGateway, n: number, tag: string) => {
      for (let i = 0; i < n; i++) {
        const r = await postJson(`${gw.url}/api/v1/chat`, { model: 'tinyllama', message: `${tag} ${i}` });
        expect(r.status).toBe(200);
      }
    };
    await send(a, 3, 'a');
    await send(b, 2, 'b');

    const v = await eventually(async () => {
      const x = await metricsView(a.url);
      return x.scope === 'cluster' && x.processes.length === 2 && x.traffic.windows['1m'].requests === 5
        ? x
        : undefined;
    });
    expect(v.cluster_error).toBeUndefined();
    expect(v.traffic.windows['5m'].requests).toBe(5);
    expect(v.traffic.last_100.requests).toBe(5);
    expect(v.traffic.windows['1m'].llm_requests).toBe(5);
    expect(v.traffic.windows['1m'].p95_ms).not.toBeNull();
    expect(new Set(v.processes.map((p) => p.id)).size).toBe(2);

    // Each process alone still reports its own share.
    const own = await metricsView(b.url, '?scope=process');
    expect(own.scope).toBe('process');
    expect(own.traffic.windows['1m'].requests).toBe(2);
  });

  it('drops a process that has shut down', async () => {
    await b.close();
    const v = await eventually(async () => {
      const x = await metricsView(a.url);
      return x.processes.length === 1 ? x : undefined;
    });
    expect(v.traffic.windows['1m'].requests).toBe(3);
  });
});
