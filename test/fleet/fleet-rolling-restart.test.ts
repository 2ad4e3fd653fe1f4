import { afterAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { parseSse } from '../helpers/http.js';
import { missing } from '../helpers/services.js';
import { freePort, spawnTs, stop, type Child } from '../queue/processes.js';
import { cleanup, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName, until } from '../queue/rig.js';
import { createBalancer, type Answer, type Instance } from './balancer.js';

/*
 * Two `sutazai serve` and two `sutazai worker` processes (the real CLI, configured through the
 * environment) on one Redis (own key prefix) and one PostgreSQL (own schema), in front of three
 * simulators. Load goes through a /ready-polling balancer; midway one gateway and one worker get
 * SIGTERM and are started again.
 */

const names = { schema: uniqueName('fleet'), prefix: uniqueName('fleetp'), queueName: 'tasks' };
const children = new Set<Child>();
const sims: SimHandle[] = [];
const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

function env(upstreams: string[], extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    REDIS_URL: TEST_REDIS_URL,
    DATABASE_URL: `${TEST_DATABASE_URL}?schema=${names.schema}`,
    SUTAZAI_CACHE_PREFIX: `${names.prefix}:`,
    SUTAZAI_UPSTREAMS: upstreams.join(','),
    SUTAZAI_DEFAULT_MODEL: 'tinyllama',
    SUTAZAI_SHUTDOWN_GRACE_MS: '20000',
    SUTAZAI_LOG_LEVEL: 'warn',
    ...extra,
  };
}

async function spawnGateway(name: string, port: number, upstreams: string[]): Promise<Instance> {
  // Started once anything is printed; readiness is then /ready (the balancer's view).
  const child = await spawnTs('src/cli/main.ts', ['serve'], '', {
    ...env(upstreams, {
      SUTAZAI_PORT: String(port),
      SUTAZAI_TASK_CONCURRENCY: '0',
      SUTAZAI_DRAIN_DELAY_MS: '500',
      SUTAZAI_LOG_LEVEL: 'info',
    }),
  });
  children.add(child);
  const inst: Instance = { name, url: `http://127.0.0.1:${port}`, ready: false, sent: 0 };
  Object.defineProperty(inst, 'child', { value: child });
  return inst;
}

async function spawnWorker(upstreams: string[]): Promise<Child> {
  const child = await spawnTs('src/cli/main.ts', ['worker'], 'consuming background tasks', {
    ...env(upstreams, { SUTAZAI_TASK_CONCURRENCY: '3', SUTAZAI_LOG_LEVEL: 'info', SUTAZAI_WORKER_NICE: '0' }),
  });
  children.add(child);
  return child;
}

const childOf = (i: Instance) => (i as Instance & { child: Child }).child;

describe.skipIf(missing('redis', 'postgres'))(
  'a fleet of gateways and workers through a rolling restart',
  { timeout: 120_000 },
  () => {
    afterAll(async () => {
      await Promise.all([...children].map((c) => stop(c, 'SIGKILL')));
      await Promise.all(sims.map((s) => s.close()));
      await cleanup(names);
    });

    it('no request fails but by 503 + Retry-After, tasks run once, L2 is shared, metrics add up', async () => {
      // Two simulators for interactive traffic, one that only background tasks use (its counters
      // are the tasks' upstream calls).
      const chat = ['tinyllama', 'llama3.2'];
      sims.push(
        await startSimulator({ port: 0, models: chat, tps: 200, ttftMs: 10, parallel: 8, maxQueue: 1000 }),
        await startSimulator({ port: 0, models: chat, tps: 200, ttftMs: 10, parallel: 8, maxQueue: 1000 }),
        await startSimulator({
          port: 0,
          models: ['taskmodel'],
          tps: 100,
          ttftMs: 10,
          parallel: 8,
          maxQueue: 1000,
        }),
      );
      const [s1, s2, tasksSim] = sims as [SimHandle, SimHandle, SimHandle];
      const upstreams = [`ollama=${s1.url}`, `openai=${s2.url}/v1`, `ollama=${tasksSim.url}`];
      const [portA, portB] = [await freePort(), await freePort()];

      const lb = createBalancer();
      const [a, b, w1, w2] = await Promise.all([
        spawnGateway('A', portA, upstreams),
        spawnGateway('B', portB, upstreams),
        spawnWorker(upstreams),
        spawnWorker(upstreams),
      ]);
      lb.put(a);
      lb.put(b);
      await until(() => a.ready && b.ready);

      // ── load: chat (some prompts repeat, so the cache answers), SSE streams, background tasks ──
      let running = true;
      const answers: Answer[] = [];
      const taskIds: string[] = [];
      const record = (r: Answer | undefined) => r && answers.push(r);
      const chatLoop = async (n: number) => {
        for (let i = 0; running; i++) {
          const message = i % 3 === 0 ? `shared ${i % 9}` : `loop ${n} req ${i}`;
          const stream = i % 2 === 1;
          record(
            await lb.send(
              stream ? '/api/v1/chat/stream' : '/api/v1/chat',
              json({ message, options: { num_predict: 12 } }),
            ),
          );
        }
      };
      const taskLoop = async () => {
        for (let i = 0; running; i++) {
          const r = await lb.send(
            '/api/v1/tasks',
            json({
              task_type: 'text_generation',
              payload: { prompt: `task ${i}`, model: 'taskmodel', options: { num_predict: 20 } },
            }),
          );
          record(r);
          if (r?.status === 202) taskIds.push((JSON.parse(r.text) as { task_id: string }).task_id);
          await new Promise((res) => setTimeout(res, 60));
        }
      };
      const load = Promise.all([chatLoop(0), chatLoop(1), chatLoop(2), chatLoop(3), taskLoop()]);
      await until(() => taskIds.length >= 10 && answers.length >= 40);

      // ── rolling restart: SIGTERM gateway A (a long stream in flight on it) and worker 1 ──
      // The long stream has its response head before the signal: it is in flight, not racing it.
      a.sent++;
      const longStream = await fetch(
        `${a.url}/api/v1/chat/stream`,
        json({ message: 'long stream during shutdown', options: { num_predict: 150 } }),
      );
      await until(() => tasksSim.stats().active > 0);
      const [exitA, exitW1] = await Promise.all([stop(childOf(a), 'SIGTERM'), stop(w1, 'SIGTERM')]);
      expect([exitA, exitW1]).toEqual([0, 0]);
      expect(longStream.status).toBe(200);
      const longEvents = parseSse(await longStream.text());
      expect(longEvents.at(-1)?.event).toBe('done');
      expect(longEvents.filter((e) => e.event === 'token').length).toBeGreaterThan(20);

      const [a2, w1b] = await Promise.all([spawnGateway('A', portA, upstreams), spawnWorker(upstreams)]);
      lb.put(a2);
      await until(() => a2.ready);
      const tasksBefore = taskIds.length;
      await until(() => taskIds.length >= tasksBefore + 10 && a2.sent >= 20);
      running = false;
      await load;

      // ── no request failed, except explicit 503s with Retry-After (retried elsewhere) ──
      expect(lb.failures).toEqual([]);
      for (const r of lb.refused) expect(r.body).toContain('SUTAZAI_ERR_SHUTTING_DOWN');
      for (const r of answers) {
        expect([200, 202]).toContain(r.status);
        if (r.headers.get('content-type')?.startsWith('text/event-stream')) {
          expect(parseSse(r.text).at(-1)?.event).toBe('done');
        }
      }
      expect(answers.filter((r) => r.instance === a2).length).toBeGreaterThan(0);

      // ── every task ran exactly once: completed in the store, one upstream call each ──
      const status = async (id: string) =>
        (JSON.parse((await lb.direct(b, `/api/v1/tasks/${id}`)).text) as { status: string }).status;
      await until(async () => (await Promise.all(taskIds.map(status))).every((s) => s === 'completed'), 100);
      expect(tasksSim.stats().generations).toBe(taskIds.length);
      expect(tasksSim.stats().aborted).toBe(0);

      // ── the shared cache: an answer made on B is a hit on the restarted A (empty L1 → L2) ──
      const body = json({ message: 'cached across the fleet', options: { num_predict: 5 } });
      const first = await lb.direct(b, '/api/v1/chat', body);
      expect(first.headers.get('x-sutazai-cache')).toBe('miss');
      const second = await lb.direct(a2, '/api/v1/chat', body);
      expect(second.headers.get('x-sutazai-cache')).toBe('hit-l2');
      expect(JSON.parse(second.text)).toMatchObject({
        response: (JSON.parse(first.text) as { response: string }).response,
        cached: true,
      });

      // ── metrics add up: the cluster view counts what the live processes served ──
      // The stopped gateway and worker retired their reports; the restarted ones and the others
      // publish every second. Traffic = what the balancer sent to A (since restart) and B.
      type View = {
        scope: string;
        processes: Array<{ pid: number }>;
        traffic: { windows: { '15m': { requests: number } } };
      };
      const view = async (url: string, scope: string) =>
        (await (await fetch(`${url}/api/v1/metrics?scope=${scope}`)).json()) as View;
      const requests = (v: View | undefined) => v?.traffic.windows['15m'].requests;
      const pids = [childOf(a2), childOf(b), w1b, w2].map((c) => c.proc.pid).sort();
      // The cluster view is the sum of the live processes' own views. (What each gateway served is
      // counted there, including the requests the load balancer re-sent after a 503, so it is
      // compared with the processes' own counts rather than with what the clients sent.)
      let seen: View | undefined;
      let own = 0;
      for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
        seen = await view(b.url, 'cluster');
        own = (requests(await view(a2.url, 'process')) ?? 0) + (requests(await view(b.url, 'process')) ?? 0);
        const live = seen.processes.map((p) => p.pid).sort();
        if (requests(seen) === own && JSON.stringify(live) === JSON.stringify(pids)) break;
      }
      expect(seen?.scope).toBe('cluster');
      expect(seen?.processes.map((p) => p.pid).sort()).toEqual(pids);
      expect(requests(seen)).toBe(own);
      // Each gateway served at least what its clients were answered by it.
      expect(requests(await view(b.url, 'process'))).toBeGreaterThanOrEqual(b.sent);
      expect(requests(await view(a2.url, 'process'))).toBeGreaterThanOrEqual(a2.sent);
      lb.close();
    });
  },
);
