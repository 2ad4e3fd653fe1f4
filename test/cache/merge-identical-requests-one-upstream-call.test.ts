import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { parseSse, postJson, waitFor } from '../helpers/http.js';

let stack: Stack;

beforeAll(async () => {
  // Slow enough (about 1 s per answer) that concurrent requests overlap for sure.
  stack = await startStack({
    sim: { tps: 30, ttftMs: 200, defaultTokens: 24 },
    gateway: { cacheMaxBytes: 1 << 20 },
  });
});

afterAll(async () => {
  await stack?.close();
});

function openStream(body: unknown, signal?: AbortSignal) {
  return fetch(`${stack.gw.url}/api/v1/chat/stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** Read a streaming response until `n` token events arrived; returns the reader and text so far. */
async function readTokens(res: Response, n: number) {
  const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const dec = new TextDecoder();
  let text = '';
  while ((text.match(/event: token/g) ?? []).length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
  }
  return {
    text,
    async rest() {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += dec.decode(value, { stream: true });
      }
    },
  };
}

const tokensOf = (sse: string) =>
  parseSse(sse)
    .filter((e) => e.event === 'token')
    .map((e) => (e.data as { text: string }).text);

describe('in-flight merging over real HTTP', () => {
  it('50 identical concurrent requests → 1 upstream call counted at the simulator; all get the answer', async () => {
    const before = stack.sim.stats().generations;
    const body = { message: 'fifty at once', options: { temperature: 0 } };
    const all = await Promise.all(
      Array.from({ length: 50 }, () => postJson(`${stack.gw.url}/api/v1/chat`, body)),
    );
    expect(stack.sim.stats().generations - before).toBe(1);
    expect(all.every((r) => r.status === 200)).toBe(true);
    expect(new Set(all.map((r) => r.json.response)).size).toBe(1);
    const statuses = all.map((r) => r.headers.get('x-sutazai-cache'));
    expect(statuses.filter((s) => s === 'miss')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'merged')).toHaveLength(49);
  });

  it('streaming: late joiners get the tokens already produced, then the live stream; a later hit replays it', async () => {
    const before = stack.sim.stats().generations;
    const body = { message: 'stream merge', options: { temperature: 0 } };
    const early = await Promise.all([openStream(body), openStream(body)]);
    const firstReads = await Promise.all(early.map((r) => readTokens(r, 3)));
    const late = await Promise.all([openStream(body), openStream(body)]);
    expect(late.map((r) => r.headers.get('x-sutazai-cache'))).toEqual(['merged', 'merged']);
    const texts = await Promise.all([...firstReads.map((r) => r.rest()), ...late.map((r) => r.text())]);
    expect(stack.sim.stats().generations - before).toBe(1);

    const reference = tokensOf(texts[0]!);
    expect(reference.length).toBeGreaterThan(3);
    for (const t of texts) {
      const events = parseSse(t);
      expect(tokensOf(t)).toEqual(reference);
      expect(events.at(-1)?.event).toBe('done');
      expect(events.filter((e) => e.event === 'done')).toHaveLength(1);
      expect(events.some((e) => e.event === 'error')).toBe(false);
    }

    const replay = await openStream(body);
    expect(replay.headers.get('x-sutazai-cache')).toBe('hit-l1');
    const replayed = await replay.text();
    expect(tokensOf(replayed)).toEqual(reference);
    expect(parseSse(replayed).at(-1)).toMatchObject({ event: 'done', data: { cached: true } });
    expect(stack.sim.stats().generations - before).toBe(1);

    // The non-streaming route shares the entry.
    const whole = await postJson(`${stack.gw.url}/api/v1/chat`, body);
    expect(whole.headers.get('x-sutazai-cache')).toBe('hit-l1');
    expect(whole.json.response).toBe(reference.join(''));
  });

  it('the first client disconnecting does not cut the others off, nor abort the upstream call', async () => {
    const before = stack.sim.stats();
    const body = { message: 'first one leaves', options: { temperature: 0 } };
    const ac = new AbortController();
    const leaver = await openStream(body, ac.signal);
    await readTokens(leaver, 1);
    const stayer = await openStream(body);
    expect(stayer.headers.get('x-sutazai-cache')).toBe('merged');
    ac.abort();
    const text = await stayer.text();
    expect(parseSse(text).at(-1)?.event).toBe('done');
    const after = stack.sim.stats();
    expect(after.generations - before.generations).toBe(1);
    expect(after.aborted).toBe(before.aborted);
  });

  it('when every client leaves, the upstream call is aborted (slot freed) and nothing is cached', async () => {
    const before = stack.sim.stats();
    const body = { message: 'everyone leaves', options: { temperature: 0 } };
    const ac = new AbortController();
    const a = await openStream(body, ac.signal);
    const b = await openStream(body, ac.signal);
    await Promise.all([readTokens(a, 1), readTokens(b, 1)]);
    ac.abort();
    await waitFor(() => stack.sim.stats().aborted > before.aborted, 5000, 'upstream abort at the simulator');
    const again = await postJson(`${stack.gw.url}/api/v1/chat`, body);
    expect(again.headers.get('x-sutazai-cache')).toBe('miss');
  });
});
