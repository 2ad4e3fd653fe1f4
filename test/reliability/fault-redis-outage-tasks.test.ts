import { afterAll, describe, expect, it } from 'vitest';
import { missing } from '../helpers/services.js';
import { freePort, startRedis, stop, type Child } from '../queue/processes.js';
import { cleanup, finalState, startRig, uniqueName, until, type Rig } from '../queue/rig.js';

/*
 * Fault suite, Redis (issue 23, item 1): Redis stopped while tasks are queued and running, and
 * started again EMPTY (the harshest case: no persistence). Submissions during the outage get a
 * 503 with Retry-After (nothing half-accepted); every task accepted before it completes after it,
 * none lost, none run twice. Chat through L1 and upstreams during a Redis outage:
 * test/cache/redis-down-no-request-fails.test.ts. A Redis of the test's own, on another port.
 */

describe.skipIf(missing('redisServer', 'postgres'))('Redis outage under task load', () => {
  let redis: Child | undefined;
  let rig: Rig | undefined;
  const names = { schema: uniqueName('fro'), prefix: uniqueName('frop'), queueName: 'tasks' };
  let redisUrl = '';
  afterAll(async () => {
    await rig?.close();
    await cleanup(names, redisUrl);
    await stop(redis);
  });

  it(
    'tasks accepted before the outage complete after it, once each; during it, 503',
    { timeout: 90_000 },
    async () => {
      const port = await freePort();
      redisUrl = `redis://127.0.0.1:${port}`;
      redis = await startRedis(port);
      // 20 tokens at 40 tokens/s: half a second a task, two at a time: most are still queued.
      rig = await startRig({
        engine: 'bullmq',
        redisUrl,
        names,
        workers: 2,
        sim: { tps: 40 },
        config: { taskReconcileMs: 200, shutdownGraceMs: 1000 },
        tuning: { lockDurationMs: 2000, stalledIntervalMs: 1000 },
      });
      const r = rig;
      const prompts = Array.from({ length: 8 }, (_, i) => `outage task ${i}`);
      const ids: string[] = [];
      for (const prompt of prompts)
        ids.push(
          (
            await r.service.submit({
              type: 'text_generation',
              payload: { prompt, options: { num_predict: 20 } },
            })
          ).task_id,
        );
      await until(() => r.calls.length > 0); // some are running

      await stop(redis);
      const refused = await r.service
        .submit({ type: 'text_generation', payload: { prompt: 'during the outage' } })
        .then(
          () => undefined,
          (err: unknown) => err as { status: number; retryAfter?: number; code: string },
        );
      expect(refused).toMatchObject({ status: 503, code: 'SUTAZAI_ERR_DEPENDENCY_UNAVAILABLE' });
      expect(refused?.retryAfter).toBeGreaterThan(0);
      await new Promise((res) => setTimeout(res, 1000));
      redis = await startRedis(port);

      for (const id of ids) expect((await finalState(r.service, id)).status).toBe('completed');
      for (const p of prompts) expect(r.calls.filter((c) => c === p).length, p).toBe(1);
      expect(r.calls).not.toContain('during the outage');
    },
  );
});
