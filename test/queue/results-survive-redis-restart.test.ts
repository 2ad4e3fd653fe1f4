import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startRedis, stop, type Child } from './processes.js';
import { cleanup, finalState, startRig, uniqueName, until, type Rig } from './rig.js';
import { missing } from '../helpers/services.js';

describe.skipIf(missing('redisServer', 'postgres'))('durability through PostgreSQL', () => {
  let redis: Child | undefined;
  let rig: Rig | undefined;
  const names = { schema: uniqueName('rr'), prefix: uniqueName('rrp'), queueName: 'tasks' };
  let redisUrl = '';

  afterAll(async () => {
    await rig?.close();
    await cleanup(names, redisUrl);
    await stop(redis);
  });

  it(
    'results and final states survive a Redis restart (an empty Redis afterwards)',
    { timeout: 60_000 },
    async () => {
      const port = await freePort();
      redisUrl = `redis://127.0.0.1:${port}`;
      redis = await startRedis(port);
      rig = await startRig({ engine: 'bullmq', redisUrl, names, workers: 1 });
      const r = rig;

      const done = await r.service.submit({ type: 'text_generation', payload: { prompt: 'keep me' } });
      const completed = await finalState(r.service, done.task_id);
      expect(completed.status).toBe('completed');
      const failing = await r.service.submit({
        type: 'chat',
        payload: { model: 'nope', messages: [{ role: 'user', content: 'x' }] },
      });
      const failed = await finalState(r.service, failing.task_id);
      expect(failed.status).toBe('failed');

      // Redis goes away and comes back empty (no persistence): BullMQ has forgotten every job.
      await stop(redis);
      redis = await startRedis(port);

      const after = await until(async () => r.service.get(done.task_id).catch(() => undefined));
      expect(after).toEqual(completed);
      expect(await r.service.get(failing.task_id)).toEqual(failed);
      expect((await r.service.list({ status: 'completed' })).map((t) => t.task_id)).toEqual([done.task_id]);

      // And the queue works again on the new Redis.
      const next = await until(async () =>
        r.service.submit({ type: 'text_generation', payload: { prompt: 'again' } }).catch(() => undefined),
      );
      expect((await finalState(r.service, next.task_id)).status).toBe('completed');
    },
  );
});
