import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, TEST_DATABASE_URL, TEST_REDIS_URL, type Stack } from '../helpers/gateway.js';
import { getJson, parseSse, postJson } from '../helpers/http.js';
import { missing } from '../helpers/services.js';
import { cleanup, uniqueName, until } from './rig.js';

type Json = Record<string, unknown>;

describe.skipIf(missing('redis', 'postgres')).each([
  ['memory', false],
  ['bullmq', true],
] as const)('/api/v1/tasks over HTTP (%s engine)', (_engine, withRedis) => {
  const names = { schema: uniqueName('http'), prefix: uniqueName('hp'), queueName: 'tasks' };
  let stack: Stack;
  let idle: Stack;
  const base = () => `${stack.gw.url}/api/v1/tasks`;
  const gateway = (taskConcurrency: number, prefix: string) => ({
    databaseUrl: `${TEST_DATABASE_URL}?schema=${names.schema}`,
    cachePrefix: prefix,
    taskConcurrency,
    defaultModel: 'tinyllama',
    ...(withRedis ? { redisUrl: TEST_REDIS_URL } : {}),
  });

  beforeAll(async () => {
    stack = await startStack({ gateway: gateway(2, `${names.prefix}:`) });
    // A gateway that accepts tasks but runs none (taskConcurrency 0), for queued-state cases.
    idle = await startStack({ gateway: gateway(0, `${names.prefix}:idle:`) });
  });
  afterAll(async () => {
    await stack?.close();
    await idle?.close();
    await cleanup(names);
  });

  it('POST → 202 with task_id; GET shows the result once done', async () => {
    const res = await postJson(base(), {
      task_type: 'text_generation',
      payload: { prompt: 'hello' },
      priority: 5,
    });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ status: 'queued', task_type: 'text_generation', priority: 5 });
    const id = res.json.task_id as string;
    expect(res.headers.get('location')).toBe(`/api/v1/tasks/${id}`);
    const done = await until(async () => {
      const r = await getJson(`${base()}/${id}`);
      return r.json.status === 'completed' ? r : undefined;
    });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ task_id: id, attempts: 1, result: { model: 'tinyllama' } });
  });

  it('400 names the bad field; bad JSON is 400 too', async () => {
    const bad = await postJson(base(), {
      task_type: 'chat',
      payload: { messages: [{ role: 'user', content: 1 }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({
      code: 'SUTAZAI_ERR_VALIDATION',
      param: 'payload.messages[0].content',
    });
    const type = await postJson(base(), { task_type: 'automation', payload: { test: true } });
    expect(type.json.error).toMatchObject({ param: 'task_type' });
    const prio = await postJson(base(), { task_type: 'chat', payload: {}, priority: 42 });
    expect(prio.json.error).toMatchObject({ param: 'priority' });
    const hook = await postJson(base(), {
      task_type: 'text_generation',
      payload: { prompt: 'x' },
      callback_url: 'http://169.254.169.254/',
    });
    expect(hook.status).toBe(400);
    expect(hook.json.error).toMatchObject({ param: 'callback_url' });
    const json = await postJson(base(), '{"task_type":');
    expect(json.status).toBe(400);
  });

  it('GET /:id/events streams status events and ends after the result', async () => {
    const res = await postJson(base(), {
      task_type: 'embedding',
      payload: { input: 'vec', model: 'nomic-embed-text' },
    });
    const id = res.json.task_id as string;
    const ev = await fetch(`${base()}/${id}/events`);
    expect(ev.status).toBe(200);
    expect(ev.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(await ev.text());
    const last = events.at(-1);
    expect(last?.event).toBe('status');
    expect(last?.data).toMatchObject({
      task_id: id,
      status: 'completed',
      result: { model: 'nomic-embed-text' },
    });
    expect(events.every((e) => e.event === 'status')).toBe(true);
  });

  it('404 for unknown ids on GET, events and DELETE', async () => {
    for (const [method, path] of [
      ['GET', ''],
      ['GET', '/events'],
      ['DELETE', ''],
    ] as const) {
      const r = await fetch(`${base()}/no-such-task${path}`, { method });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(((await r.json()) as Json).error).toMatchObject({ code: 'SUTAZAI_ERR_NOT_FOUND' });
    }
  });

  it('DELETE cancels a queued task; list filters by status', async () => {
    const idleBase = `${idle.gw.url}/api/v1/tasks`;
    const a = (await postJson(idleBase, { task_type: 'text_generation', payload: { prompt: 'a' } })).json
      .task_id as string;
    const b = (await postJson(idleBase, { task_type: 'text_generation', payload: { prompt: 'b' } })).json
      .task_id as string;
    const del = await fetch(`${idleBase}/${a}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ task_id: a, status: 'cancelled' });
    const queued = await getJson(`${idleBase}?status=queued&limit=10`);
    expect((queued.json.tasks as Json[]).map((t) => t.task_id)).toContain(b);
    expect((queued.json.tasks as Json[]).map((t) => t.task_id)).not.toContain(a);
    const cancelled = await getJson(`${idleBase}?status=cancelled`);
    expect((cancelled.json.tasks as Json[]).map((t) => t.task_id)).toContain(a);
    const badStatus = await getJson(`${idleBase}?status=pending`);
    expect(badStatus.status).toBe(400);
    expect((badStatus.json.error as Json).param).toBe('status');
    const stats = await getJson(`${idleBase}/stats`);
    expect(stats.json).toMatchObject({ engine: withRedis ? 'bullmq' : 'memory', workers: 0 });
    expect((stats.json.depth as Json).low).toBeGreaterThanOrEqual(1);
  });
});
