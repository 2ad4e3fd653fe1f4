import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/catalogue.js';
import type { TaskInput } from '../../src/queue/registry.js';
import { missing } from '../helpers/services.js';
import { finalState, startRig, until, type EngineKind, type Rig, type RigOptions } from './rig.js';

/** The behaviour both engines must share. Multi-process cases live in their own files. */
export function taskBehaviour(engine: EngineKind) {
  const needs = engine === 'bullmq' ? (['redis', 'postgres'] as const) : (['postgres'] as const);
  describe.skipIf(missing(...needs))(`task queue behaviour (${engine} engine)`, () => {
    let rig: Rig | undefined;
    let server: Server | undefined;
    const start = async (o: Partial<RigOptions> = {}) => (rig = await startRig({ engine, ...o }));
    afterEach(async () => {
      await rig?.close();
      rig = undefined;
      if (server) await new Promise((r) => server?.close(r));
      server = undefined;
    });

    const submitError = async (r: Rig, input: unknown): Promise<GatewayError> => {
      try {
        await r.service.submit(input as TaskInput);
      } catch (err) {
        if (err instanceof GatewayError) return err;
        throw err;
      }
      throw new Error('submission was accepted');
    };

    it('runs every task type through the pipeline and stores final states', async () => {
      const r = await start();
      const text = await r.service.submit({
        type: 'text_generation',
        payload: { prompt: 'hello', options: { num_predict: 5 } },
      });
      const chat = await r.service.submit({
        type: 'chat',
        payload: { messages: [{ role: 'user', content: 'hi' }] },
      });
      const emb = await r.service.submit({
        type: 'embedding',
        payload: { input: ['a', 'b'], model: 'nomic-embed-text' },
      });
      const batch = await r.service.submit({
        type: 'batch',
        payload: { prompts: ['x', 'y', 'z'] },
        priority: 7,
      });
      expect(text).toMatchObject({
        status: 'queued',
        task_type: 'text_generation',
        priority: 0,
        attempts: 0,
      });

      const t = await finalState(r.service, text.task_id);
      expect(t).toMatchObject({
        status: 'completed',
        attempts: 1,
        result: { model: 'llama3.2', finish_reason: 'length' },
      });
      expect((t.result as { response: string }).response.length).toBeGreaterThan(0);
      expect((t.result as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(5);
      expect(t.started_at).toBeDefined();
      expect(t.finished_at).toBeDefined();

      expect((await finalState(r.service, chat.task_id)).status).toBe('completed');
      const e = await finalState(r.service, emb.task_id);
      expect((e.result as { embeddings: number[][] }).embeddings).toHaveLength(2);
      const b = await finalState(r.service, batch.task_id);
      expect(b).toMatchObject({
        status: 'completed',
        priority: 7,
        result: { total: 3, succeeded: 3, failed: 0 },
      });
      expect((b.result as { results: Array<{ index: number }> }).results.map((x) => x.index)).toEqual([
        0, 1, 2,
      ]);

      const stored = await r.store.tasks.get(text.task_id);
      expect(stored).toMatchObject({ status: 'completed', attempts: 1, result: t.result });
      expect(r.sim.stats().generations).toBe(1 + 1 + 1 + 3);
    });

    it('streams queued → running → completed and ends after the final state', async () => {
      const r = await start({ workers: 0 });
      const task = await r.service.submit({ type: 'text_generation', payload: { prompt: 'events' } });
      const seen: string[] = [];
      const done = (async () => {
        for await (const v of r.service.events(task.task_id)) {
          seen.push(v.status);
          if (v.status === 'queued') await r.service.startWorkers(1);
        }
      })();
      await done;
      expect(seen).toEqual(['queued', 'running', 'completed']);
    });

    it('rejects bad payloads at submission with a 400 naming the field', async () => {
      const r = await start({ workers: 0, config: { batchMaxItems: 2 } });
      const cases: Array<[unknown, string]> = [
        [{ type: 'text_generation', payload: {} }, 'payload.prompt'],
        [
          { type: 'text_generation', payload: { prompt: 'x', options: { temperature: 'hot' } } },
          'payload.options.temperature',
        ],
        [{ type: 'chat', payload: { messages: [] } }, 'payload.messages'],
        [{ type: 'chat', payload: { messages: [{ role: 'user' }] } }, 'payload.messages[0].content'],
        [{ type: 'embedding', payload: { input: '' } }, 'payload.input'],
        [{ type: 'batch', payload: { prompts: ['a', 'b', 'c'] } }, 'payload.prompts'],
        [{ type: 'sleep', payload: {} }, 'task_type'],
        [{ type: 'chat', payload: { messages: [{ role: 'user', content: 'x' }] }, priority: 11 }, 'priority'],
        [
          { type: 'text_generation', payload: { prompt: 'x' }, callbackUrl: 'http://evil.example/hook' },
          'callback_url',
        ],
      ];
      for (const [input, param] of cases) {
        const err = await submitError(r, input);
        expect(err.status, param).toBe(400);
        expect(err.param, param).toBe(param);
      }
      expect(await r.service.list()).toEqual([]);
    });

    it('takes higher priority bands first under contention, FIFO within a band', async () => {
      const r = await start({ workers: 0 });
      const order: Array<[string, number]> = [
        ['low-a', 0],
        ['normal-a', 5],
        ['high-a', 10],
        ['low-b', 4],
        ['high-b', 10],
        ['normal-b', 9],
      ];
      const ids = [];
      for (const [prompt, priority] of order) {
        ids.push(
          (await r.service.submit({ type: 'text_generation', payload: { prompt }, priority })).task_id,
        );
      }
      await r.service.startWorkers(1);
      for (const id of ids) expect((await finalState(r.service, id)).status).toBe('completed');
      expect(r.calls).toEqual(['high-a', 'high-b', 'normal-a', 'normal-b', 'low-a', 'low-b']);
    });

    it('retries transient upstream failures with backoff, then succeeds', async () => {
      const r = await start();
      r.sim.setFaults({ failNext: 2, failNextStatus: 503 });
      const task = await r.service.submit({ type: 'text_generation', payload: { prompt: 'flaky' } });
      const final = await finalState(r.service, task.task_id);
      expect(final).toMatchObject({ status: 'completed', attempts: 3 });
      expect(r.sim.stats().requests['/api/generate']).toBe(3);
      expect((await r.service.stats()).retried).toBe(2);
    });

    it('fails after the last attempt with the upstream error', async () => {
      const r = await start();
      r.sim.setFaults({ failNext: 10, failNextStatus: 503 });
      const task = await r.service.submit({ type: 'text_generation', payload: { prompt: 'down' } });
      const final = await finalState(r.service, task.task_id);
      expect(final).toMatchObject({
        status: 'failed',
        attempts: 3,
        error: { code: 'SUTAZAI_ERR_UPSTREAM_BUSY' },
      });
      expect(r.sim.stats().requests['/api/generate']).toBe(3);
      expect((await r.store.tasks.get(task.task_id))?.status).toBe('failed');
    });

    it('does not retry invalid input', async () => {
      const r = await start();
      const unknownModel = await r.service.submit({
        type: 'chat',
        payload: { model: 'nope', messages: [{ role: 'user', content: 'x' }] },
      });
      expect(await finalState(r.service, unknownModel.task_id)).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { code: 'SUTAZAI_ERR_MODEL_NOT_FOUND' },
      });
      r.sim.setFaults({ failNext: 1, failNextStatus: 400 });
      const rejected = await r.service.submit({ type: 'text_generation', payload: { prompt: 'bad' } });
      expect(await finalState(r.service, rejected.task_id)).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { code: 'SUTAZAI_ERR_BAD_REQUEST' },
      });
      expect(r.sim.stats().requests['/api/generate']).toBe(1);
      expect((await r.service.stats()).retried).toBe(0);
    });

    it('cancels a queued task: it never runs', async () => {
      const r = await start({ workers: 0 });
      const doomed = await r.service.submit({ type: 'text_generation', payload: { prompt: 'doomed' } });
      const cancelled = await r.service.cancel(doomed.task_id);
      expect(cancelled).toMatchObject({ status: 'cancelled', task_id: doomed.task_id });
      expect((await r.store.tasks.get(doomed.task_id))?.status).toBe('cancelled');
      expect(await finalState(r.service, doomed.task_id)).toMatchObject({ status: 'cancelled' });
      await r.service.startWorkers(1);
      const after = await r.service.submit({ type: 'text_generation', payload: { prompt: 'after' } });
      await finalState(r.service, after.task_id);
      expect(r.calls).toEqual(['after']);
      // Cancelling a finished task changes nothing.
      expect(await r.service.cancel(after.task_id)).toMatchObject({ status: 'completed' });
    });

    it('cancels a running task and aborts its upstream request', async () => {
      const r = await start({ sim: { tps: 20 } });
      const task = await r.service.submit({
        type: 'text_generation',
        payload: { prompt: 'long', options: { num_predict: 2000 } },
      });
      await until(
        async () => (await r.service.get(task.task_id))?.status === 'running' && r.sim.stats().active === 1,
      );
      const view = await r.service.cancel(task.task_id);
      expect(view).toMatchObject({ status: 'cancelled', attempts: 1 });
      await until(() => r.sim.stats().aborted === 1);
      expect((await r.store.tasks.get(task.task_id))?.status).toBe('cancelled');
      expect((await r.service.stats()).cancelled).toBe(1);
    });

    it('lists tasks by status, newest first, and answers unknown ids', async () => {
      const r = await start({ workers: 0 });
      const a = await r.service.submit({ type: 'text_generation', payload: { prompt: 'a' } });
      const b = await r.service.submit({ type: 'text_generation', payload: { prompt: 'b' } });
      await r.service.cancel(a.task_id);
      expect((await r.service.list({ status: 'cancelled' })).map((t) => t.task_id)).toEqual([a.task_id]);
      expect((await r.service.list({ status: 'queued' })).map((t) => t.task_id)).toEqual([b.task_id]);
      expect((await r.service.list()).map((t) => t.task_id)).toEqual([b.task_id, a.task_id]);
      expect(await r.service.list({ limit: 1 })).toHaveLength(1);
      const missing = '00000000-0000-4000-8000-000000000000';
      expect(await r.service.get(missing)).toBeUndefined();
      expect(await r.service.cancel(missing)).toBeUndefined();
      await expect(finalState(r.service, missing)).rejects.toMatchObject({ code: 'SUTAZAI_ERR_NOT_FOUND' });
    });

    it('reports depth per priority band, counters and wait/run percentiles', async () => {
      const r = await start({ workers: 0 });
      const ids: string[] = [];
      for (const p of [10, 10, 5, 0, 0, 1]) {
        ids.push(
          (await r.service.submit({ type: 'text_generation', payload: { prompt: `p${p}` }, priority: p }))
            .task_id,
        );
      }
      const before = await r.service.stats();
      expect(before).toMatchObject({
        engine,
        workers: 0,
        depth: { high: 2, normal: 1, low: 3 },
        active: 0,
        completed: 0,
      });
      await r.service.startWorkers(2);
      for (const id of ids) await finalState(r.service, id);
      const after = await until(async () => {
        const s = await r.service.stats();
        return s.completed === 6 ? s : undefined;
      });
      expect(after).toMatchObject({ workers: 2, depth: { high: 0, normal: 0, low: 0 }, failed: 0 });
      expect(after.waitMs.p95).toBeGreaterThanOrEqual(after.waitMs.p50);
      expect(after.runMs.p95).toBeGreaterThanOrEqual(after.runMs.p50);
      expect(after.runMs.p50).toBeGreaterThanOrEqual(0);
    });

    it('posts the final state to an allowed callback URL, retrying on 5xx', async () => {
      const bodies: unknown[] = [];
      let calls = 0;
      server = createServer((req, res) => {
        let data = '';
        req.on('data', (c: Buffer) => (data += c.toString()));
        req.on('end', () => {
          calls++;
          if (calls === 1) {
            res.writeHead(500).end();
            return;
          }
          bodies.push(JSON.parse(data));
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((res) => server?.listen(0, '127.0.0.1', res));
      const port = (server.address() as { port: number }).port;
      const r = await start({ config: { callbackAllowedHosts: [`127.0.0.1:${port}`] } });
      const task = await r.service.submit({
        type: 'text_generation',
        payload: { prompt: 'call me' },
        callbackUrl: `http://127.0.0.1:${port}/hook`,
      });
      await finalState(r.service, task.task_id);
      await until(() => bodies.length === 1);
      expect(calls).toBe(2);
      expect(bodies[0]).toMatchObject({
        task_id: task.task_id,
        status: 'completed',
        result: { model: 'llama3.2' },
      });
    });

    it('graceful close lets running tasks finish within the deadline', async () => {
      const r = await start({ sim: { tps: 100 }, workers: 3 });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(
          (
            await r.service.submit({
              type: 'text_generation',
              payload: { prompt: `g${i}`, options: { num_predict: 20 } },
            })
          ).task_id,
        );
      }
      await until(() => r.sim.stats().active === 3);
      await r.service.close();
      for (const id of ids) expect((await r.store.tasks.get(id))?.status).toBe('completed');
      expect(r.sim.stats().aborted).toBe(0);
    });
  });
}
