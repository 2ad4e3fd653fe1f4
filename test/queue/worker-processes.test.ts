import type { Server } from 'node:http';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerArgs } from './fixtures/worker-process.js';
import { spawnTs, startCallbackSink, stop, type Child } from './processes.js';
import {
  cleanup,
  finalState,
  startRig,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  uniqueName,
  until,
  type Rig,
} from './rig.js';
import { missing } from '../helpers/services.js';

const FIXTURE = 'test/queue/fixtures/worker-process.ts';

describe.skipIf(missing('redis', 'postgres'))(
  'task workers in separate processes (BullMQ)',
  { timeout: 90_000 },
  () => {
    const children: Child[] = [];
    let rig: Rig | undefined;
    let sink: { server: Server; port: number; bodies: Array<Record<string, unknown>> } | undefined;
    let names = { schema: '', prefix: '', queueName: 'tasks' };

    afterEach(async () => {
      await Promise.all(children.splice(0).map((c) => stop(c, 'SIGKILL')));
      await rig?.close();
      rig = undefined;
      if (sink) await new Promise((r) => sink?.server.close(r));
      sink = undefined;
      await cleanup(names);
    });

    /** A producer-only service in this process, plus a callback sink to count results. */
    async function setup(tps: number) {
      // `sutazai worker` derives its BullMQ prefix from the cache prefix: `<cachePrefix>bull`.
      names = { schema: uniqueName('mp'), prefix: `${uniqueName('mpp')}:bull`, queueName: 'tasks' };
      sink = await startCallbackSink();
      rig = await startRig({
        engine: 'bullmq',
        workers: 0,
        names,
        sim: { tps },
        config: { callbackAllowedHosts: [`127.0.0.1:${sink.port}`] },
      });
      return { rig, sink };
    }

    const fixtureWorker = async (r: Rig, port: number, concurrency: number, shutdownGraceMs = 5000) => {
      const args: WorkerArgs = {
        simUrl: r.sim.url,
        redisUrl: TEST_REDIS_URL,
        databaseUrl: `${TEST_DATABASE_URL}?schema=${names.schema}`,
        prefix: names.prefix,
        queueName: names.queueName,
        concurrency,
        callbackHosts: [`127.0.0.1:${port}`],
        shutdownGraceMs,
      };
      const child = await spawnTs(FIXTURE, [JSON.stringify(args)], 'ready');
      children.push(child);
      return child;
    };

    /** The real `sutazai worker` CLI, configured through the environment like in production. */
    const cliWorker = async (r: Rig, port: number, concurrency: number, shutdownGraceMs: number) => {
      const child = await spawnTs('src/cli/main.ts', ['worker'], 'consuming background tasks', {
        REDIS_URL: TEST_REDIS_URL,
        DATABASE_URL: `${TEST_DATABASE_URL}?schema=${names.schema}`,
        SUTAZAI_UPSTREAMS: `ollama=${r.sim.url}`,
        SUTAZAI_DEFAULT_MODEL: 'llama3.2',
        SUTAZAI_CACHE_PREFIX: names.prefix.slice(0, -'bull'.length),
        SUTAZAI_CACHE_MODE: 'off',
        SUTAZAI_TASK_CONCURRENCY: String(concurrency),
        SUTAZAI_SHUTDOWN_GRACE_MS: String(shutdownGraceMs),
        SUTAZAI_CALLBACK_ALLOWED_HOSTS: `127.0.0.1:${port}`,
        SUTAZAI_LOG_LEVEL: 'info',
        SUTAZAI_WORKER_NICE: '7',
      });
      children.push(child);
      return child;
    };

    const submit = (r: Rig, port: number, prompt: string, numPredict: number) =>
      r.service.submit({
        type: 'text_generation',
        payload: { prompt, options: { num_predict: numPredict } },
        callbackUrl: `http://127.0.0.1:${port}/done`,
      });

    it('kill -9 of a worker mid-job: another worker completes it, exactly one result', async () => {
      const { rig: r, sink: s } = await setup(50);
      const first = await fixtureWorker(r, s.port, 1);
      const task = await submit(r, s.port, 'survive', 60);
      await until(
        async () => (await r.service.get(task.task_id))?.status === 'running' && r.sim.stats().active === 1,
      );
      expect(await stop(first, 'SIGKILL')).toBeNull();

      await fixtureWorker(r, s.port, 1);
      const final = await finalState(r.service, task.task_id);
      // BullMQ does not count a job lost with its worker as a used attempt.
      expect(final).toMatchObject({ status: 'completed' });
      expect((await r.store.tasks.get(task.task_id))?.status).toBe('completed');
      await until(() => s.bodies.length >= 1);
      // Give a duplicate completion every chance to show up before counting.
      await finalState(r.service, (await submit(r, s.port, 'marker', 1)).task_id);
      await until(() => s.bodies.length >= 2);
      expect(s.bodies.filter((b) => b.task_id === task.task_id)).toHaveLength(1);
      // It ran twice upstream (killed, then again) and still produced one result.
      expect(r.sim.stats().generations).toBe(3);
    });

    it('SIGTERM lets in-flight jobs finish, leaves the rest queued; none lost (sutazai worker CLI)', async () => {
      const { rig: r, sink: s } = await setup(50);
      const w1 = await cliWorker(r, s.port, 3, 20_000);
      // The worker lowered its own CPU priority (SUTAZAI_WORKER_NICE) so co-located gateways answer first.
      expect(os.getPriority(w1.proc.pid)).toBe(7);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await submit(r, s.port, `job-${i}`, 40)).task_id);
      await until(() => r.sim.stats().active === 3);
      expect(await stop(w1, 'SIGTERM')).toBe(0);
      const afterFirst = await Promise.all(ids.map((id) => r.service.get(id)));
      expect(afterFirst.filter((t) => t?.status === 'completed')).toHaveLength(3);
      expect(afterFirst.filter((t) => t?.status === 'queued')).toHaveLength(2);

      await cliWorker(r, s.port, 3, 20_000);
      for (const id of ids) expect((await finalState(r.service, id)).status).toBe('completed');
      await until(() => s.bodies.length === 5);
      expect(new Set(s.bodies.map((b) => b.task_id))).toEqual(new Set(ids));
      expect(r.sim.stats().aborted).toBe(0);
    });

    it('SIGTERM past the grace deadline hands running jobs back; another worker completes them', async () => {
      const { rig: r, sink: s } = await setup(20);
      const w1 = await fixtureWorker(r, s.port, 2, 200);
      const ids = [
        (await submit(r, s.port, 'long-a', 400)).task_id,
        (await submit(r, s.port, 'long-b', 400)).task_id,
      ];
      await until(() => r.sim.stats().active === 2);
      expect(await stop(w1, 'SIGTERM')).toBe(0);
      await until(() => r.sim.stats().aborted === 2);
      for (const id of ids) expect((await r.service.get(id))?.status).toBe('queued');

      r.sim.setFaults({}); // unchanged; the next worker runs them to the end
      await fixtureWorker(r, s.port, 2);
      for (const id of ids) expect((await finalState(r.service, id)).status).toBe('completed');
      await until(() => s.bodies.length === 2);
      expect(new Set(s.bodies.map((b) => b.task_id))).toEqual(new Set(ids));
    });
  },
);
