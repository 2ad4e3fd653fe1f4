import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { json, post, waitFor } from './helpers.js';

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const chatBody = (stream: boolean): string =>
  JSON.stringify({ model: 'llama3.2', stream, messages: [{ role: 'user', content: 'hi' }] });

/** Start a request whose outcome we inspect later; the abort controller stands for the client leaving. */
function startRequest(url: string, path: string, body: string) {
  const ac = new AbortController();
  const done = request(`${url}${path}`, { method: 'POST', body, signal: ac.signal }).then(
    async (r) => ({ status: r.statusCode, text: await r.body.text() }),
    (err: unknown) => ({ status: -1, text: String(err) }),
  );
  return { ac, done };
}

describe('slots and the wait queue', () => {
  it('runs `parallel` generations, queues the rest FIFO, answers 503 beyond maxQueue', async () => {
    const h = await startSimulator({ parallel: 1, maxQueue: 1, ttftMs: 60_000 });
    sim = h;
    const first = startRequest(h.url, '/api/chat', chatBody(false));
    await waitFor(() => h.stats().active === 1, 'first request in a slot');
    const second = startRequest(h.url, '/v1/chat/completions', chatBody(false));
    await waitFor(() => h.stats().queued === 1, 'second request queued');

    const ollamaFull = await post(`${h.url}/api/chat`, JSON.parse(chatBody(false)));
    expect(ollamaFull.status).toBe(503);
    expect(json(ollamaFull)).toEqual({
      error: 'server busy, please try again.  maximum pending requests exceeded',
    });
    expect(ollamaFull.headers['retry-after']).toBeDefined();
    const openaiFull = await post(`${h.url}/v1/chat/completions`, JSON.parse(chatBody(false)));
    expect(openaiFull.status).toBe(503);
    expect(json<{ error: { message: string; type: string } }>(openaiFull).error.message).toMatch(
      /server busy/,
    );
    const embedFull = await post(`${h.url}/api/embed`, { model: 'nomic-embed-text', input: 'x' });
    expect(embedFull.status).toBe(503);
    expect(h.stats()).toMatchObject({ active: 1, queued: 1, rejected503: 3, generations: 1 });

    // The client of the running request leaves: its slot goes to the queued one at once.
    first.ac.abort();
    expect((await first.done).status).toBe(-1);
    await waitFor(
      () => h.stats().queued === 0 && h.stats().active === 1 && h.stats().generations === 2,
      'hand-over',
    );
    expect(h.stats().aborted).toBe(1);
    second.ac.abort();
    await second.done;
    await waitFor(() => h.stats().active === 0, 'slot freed');
    expect(h.stats().aborted).toBe(2);
  });

  it('a client that leaves the queue frees its place without ever taking a slot', async () => {
    const h = await startSimulator({ parallel: 1, maxQueue: 1, ttftMs: 60_000 });
    sim = h;
    const first = startRequest(h.url, '/api/generate', JSON.stringify({ model: 'llama3.2', prompt: 'x' }));
    await waitFor(() => h.stats().active === 1, 'slot taken');
    const queued = startRequest(h.url, '/api/generate', JSON.stringify({ model: 'llama3.2', prompt: 'y' }));
    await waitFor(() => h.stats().queued === 1, 'queued');
    queued.ac.abort();
    await queued.done;
    await waitFor(() => h.stats().queued === 0, 'queue emptied');
    expect(h.stats()).toMatchObject({ aborted: 1, generations: 1, active: 1 });
    // The place is free again: a new request queues instead of getting 503.
    const again = startRequest(h.url, '/api/generate', JSON.stringify({ model: 'llama3.2', prompt: 'z' }));
    await waitFor(() => h.stats().queued === 1, 'queued again');
    expect(h.stats().rejected503).toBe(0);
    first.ac.abort();
    await waitFor(() => h.stats().generations === 2, 'queued one runs');
    again.ac.abort();
    await Promise.all([first.done, again.done]);
    await waitFor(() => h.stats().active === 0, 'all freed');
  });

  it('a stream aborted part-way frees its slot (stats.aborted)', async () => {
    const h = await startSimulator({ parallel: 1, tps: 20, defaultTokens: 1000 });
    sim = h;
    const ac = new AbortController();
    const res = await request(`${h.url}/api/chat`, {
      method: 'POST',
      body: chatBody(true),
      signal: ac.signal,
    });
    expect(res.statusCode).toBe(200);
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    expect(h.stats().active).toBe(1);
    ac.abort();
    await waitFor(() => h.stats().active === 0, 'slot freed after abort');
    expect(h.stats()).toMatchObject({ aborted: 1, generations: 1 });
    // The freed slot serves the next request.
    const ok = await post(`${h.url}/api/chat`, {
      model: 'llama3.2',
      stream: false,
      options: { num_predict: 1 },
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(ok.status).toBe(200);
  });

  it('the queue is FIFO', async () => {
    const h = await startSimulator({ parallel: 1, maxQueue: 5, ttftMs: 60_000 });
    sim = h;
    const gen = (p: string) =>
      startRequest(h.url, '/api/generate', JSON.stringify({ model: 'llama3.2', prompt: p }));
    const a = gen('a');
    await waitFor(() => h.stats().active === 1, 'a running');
    const b = gen('b');
    await waitFor(() => h.stats().queued === 1, 'b queued');
    const c = gen('c');
    await waitFor(() => h.stats().queued === 2, 'c queued');
    a.ac.abort();
    await waitFor(() => h.stats().generations === 2 && h.stats().queued === 1, 'next one running');
    // If b (the older) holds the slot, b leaving hands the slot to c; had c got it, b would only leave the queue.
    b.ac.abort();
    await waitFor(() => h.stats().generations === 3, 'c running after b left');
    expect(h.stats()).toMatchObject({ active: 1, queued: 0, aborted: 2 });
    c.ac.abort();
    await Promise.all([a.done, b.done, c.done]);
    await waitFor(() => h.stats().active === 0, 'all freed');
  });

  it('many zero-latency requests through few slots all complete', async () => {
    const h = await startSimulator({ parallel: 2, maxQueue: 64 });
    sim = h;
    const all = Array.from({ length: 40 }, (_, i) =>
      post(`${h.url}/api/generate`, { model: 'llama3.2', prompt: `p${i}`, stream: false }).then(
        (r) => r.status,
      ),
    );
    expect(await Promise.all(all)).toEqual(Array(40).fill(200));
    expect(h.stats()).toMatchObject({ generations: 40, active: 0, queued: 0, rejected503: 0 });
  });
});
