import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { waitFor } from '../helpers/http.js';

/*
 * Fault suite, clients leaving (issue 23, item 1) while waiting for the first token, plain and
 * streaming, on each surface: the upstream call is aborted (its slot freed at the simulator) and
 * the gateway has nothing left open. Leaving mid-stream: test/surfaces/stream-writer-per-surface;
 * leaving a merged flight (aborted only when no one else waits): test/cache/merge-identical-*.
 */

const CASES = [
  { name: 'v1 plain', path: '/api/v1/chat', body: (m: string) => ({ message: m }) },
  { name: 'v1 stream', path: '/api/v1/chat/stream', body: (m: string) => ({ message: m }) },
  {
    name: 'openai plain',
    path: '/v1/chat/completions',
    body: (m: string) => ({ model: 'tinyllama', messages: [{ role: 'user', content: m }] }),
  },
  {
    name: 'openai stream',
    path: '/v1/chat/completions',
    body: (m: string) => ({ model: 'tinyllama', stream: true, messages: [{ role: 'user', content: m }] }),
  },
  {
    name: 'ollama plain',
    path: '/api/generate',
    body: (m: string) => ({ model: 'tinyllama', prompt: m, stream: false }),
  },
  {
    name: 'ollama stream',
    path: '/api/chat',
    body: (m: string) => ({ model: 'tinyllama', messages: [{ role: 'user', content: m }] }),
  },
];

let s: Stack;
beforeAll(async () => {
  // The first token comes after 20 s: every client here leaves long before it.
  s = await startStack({ sim: { ttftMs: 20_000 }, gateway: { cacheMode: 'off' } });
});
afterAll(async () => {
  await s.close();
});

describe.each(CASES)('a client leaving before the first token ($name)', (c) => {
  it('aborts the upstream call and leaves nothing open', async () => {
    const before = s.sim.stats().aborted;
    const ac = new AbortController();
    const req = fetch(`${s.gw.url}${c.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(c.body(`leave early ${c.name}`)),
      signal: ac.signal,
    }).then(
      (r) => r.text(),
      () => 'aborted',
    );
    await waitFor(() => s.sim.stats().active === 1, 5000, 'upstream working');
    ac.abort();
    expect(await req).toBe('aborted');
    await waitFor(() => s.sim.stats().active === 0, 5000, 'upstream call aborted');
    expect(s.sim.stats().aborted).toBe(before + 1);
    await waitFor(() => (s.gw.app.sutazaiStreams?.size ?? 0) === 0, 3000, 'no open stream');
  });
});
