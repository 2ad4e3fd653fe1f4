import { afterAll, describe, expect, it } from 'vitest';
import { missing } from '../helpers/services.js';
import { freePort, startRedis, stop, type Child } from '../queue/processes.js';
import { cleanup, finalState, startRig, uniqueName, until, type Rig } from '../queue/rig.js';

// Issue 23, finding 9: Redis restarted with its data lost; tasks accepted but still queued
// answered 404 afterwards and never ran. The SQL task record is the source of truth now: what it
// says is queued is re-enqueued once the queue is found to have lost its data.

describe.skipIf(missing('redisServer', 'postgres'))(
  'finding 9: queued tasks survive Redis losing its data',
  () => {
    let redis: Child | undefined;
    let rig: Rig | undefined;
    const names = { schema: uniqueName('f09'), prefix: uniqueName('f09p'), queueName: 'tasks' };
    let redisUrl = '';

    afterAll(async () => {
      await rig?.close();
      await cleanup(names, redisUrl);
      await stop(redis);
    });

    it(
      'tasks queued before the loss stay visible, are re-enqueued and run exactly once',
      { timeout: 60_000 },
      async () => {
        // A Redis of this test's own (never the shared one): it is stopped and started empty.
        const port = await freePort();
        redisUrl = `redis://127.0.0.1:${port}`;
        redis = await startRedis(port);
        // No consumers yet, so the tasks are still queued when Redis loses them.
        rig = await startRig({
          engine: 'bullmq',
          redisUrl,
          names,
          workers: 0,
          config: { taskReconcileMs: 200 },
        });
        const r = rig;
        const prompts = ['f09 one', 'f09 two', 'f09 three', 'f09 four'];
        const ids: string[] = [];
        for (const prompt of prompts)
          ids.push((await r.service.submit({ type: 'text_generation', payload: { prompt } })).task_id);

        await stop(redis);
        redis = await startRedis(port);

        // Still known (from SQL), still queued: not a 404.
        for (const id of ids) {
          const v = await until(async () => r.service.get(id).catch(() => undefined));
          expect(v.status).toBe('queued');
        }
        // Back on the queue once the loss is noticed.
        await until(
          async () => (await r.service.list({ status: 'queued' }).catch(() => [])).length === ids.length,
        );

        await r.service.startWorkers(2);
        for (const id of ids) expect((await finalState(r.service, id)).status).toBe('completed');
        for (const p of prompts) expect(r.calls.filter((c) => c === p)).toHaveLength(1);
      },
    );

    it(
      'a process starting on an empty queue re-enqueues what SQL says is queued',
      { timeout: 60_000 },
      async () => {
        const r = rig!;
        // Another "process" accepts a task while no one consumes; then the queue loses everything.
        const submitter = await r.peer(0);
        const id = (await submitter.submit({ type: 'text_generation', payload: { prompt: 'f09 restart' } }))
          .task_id;
        await stop(redis);
        redis = await startRedis(Number(new URL(redisUrl).port));
        await submitter.close();
        // A fresh process with consumers: it finds the record queued and the queue without the job.
        const fresh = await until(() => r.peer(1).catch(() => undefined));
        expect((await finalState(fresh, id)).status).toBe('completed');
        expect(r.calls.filter((c) => c === 'f09 restart')).toHaveLength(1);
      },
    );
  },
);
