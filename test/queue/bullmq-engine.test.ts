import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { keyNames } from '../../src/queue/bullmq-records.js';
import { taskBehaviour } from './behaviour.js';
import { startRig, TEST_REDIS_URL, until, type Rig } from './rig.js';
import { missing } from '../helpers/services.js';

taskBehaviour('bullmq');

describe.skipIf(missing('redis', 'postgres'))('task status events over Redis (bullmq engine)', () => {
  let rig: Rig | undefined;
  const redis = new Redis(TEST_REDIS_URL);
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });
  afterAll(() => redis.disconnect());

  const subscribers = async (channel: string) => {
    const [, n] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
    return Number(n);
  };

  it('subscribes to the events channel only while someone watches a task', async () => {
    rig = await startRig({ engine: 'bullmq', workers: 0 });
    const r = rig;
    const channel = keyNames(r.names.prefix, r.names.queueName).events;
    // Nobody watches (and the PostgreSQL store is shared): the gateway does not parse every event.
    expect(await subscribers(channel)).toBe(0);

    const task = await r.service.submit({ type: 'text_generation', payload: { prompt: 'watched' } });
    const seen: string[] = [];
    const watching = (async () => {
      for await (const v of r.service.events(task.task_id)) {
        seen.push(v.status);
        if (v.status === 'queued') {
          await until(async () => (await subscribers(channel)) === 1);
          await r.service.startWorkers(1);
        }
      }
    })();
    await watching;
    expect(seen).toEqual(['queued', 'running', 'completed']);
    // The watcher is gone: so is the subscription.
    await until(async () => (await subscribers(channel)) === 0);
  });
});
