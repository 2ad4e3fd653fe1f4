import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/gateway.js';
import { admissionStack, chatBody, post, serverTiming } from './helpers.js';

// 1 slot, ~200 ms per answer (20 tokens at 100/s).
let stack: Stack;
beforeAll(async () => {
  stack = await admissionStack(
    { parallel: 1, maxQueue: 0, tps: 100, defaultTokens: 20 },
    { upstreamSlots: 1, queueTimeoutMs: 600 },
  );
});
afterAll(async () => {
  await stack?.close();
});

describe('Server-Timing and admission metrics', () => {
  it('every surface, streamed or not, says how long it queued, was upstream and in the gateway', async () => {
    const url = stack.gw.url;
    const oa = { model: 'tinyllama', messages: [{ role: 'user', content: `st ${Math.random()}` }] };
    const answers = [
      await post(`${url}/api/chat`, chatBody()),
      await post(`${url}/api/chat`, chatBody({ stream: true })),
      await post(`${url}/v1/chat/completions`, oa),
      await post(`${url}/v1/chat/completions`, { ...oa, stream: true }),
      await post(`${url}/api/v1/chat`, {
        model: 'tinyllama',
        message: `v1 ${Math.random()}`,
        use_cache: false,
      }),
    ];
    for (const a of answers) {
      expect(a.status).toBe(200);
      const t = serverTiming(a.headers['server-timing']);
      expect(Object.keys(t).sort()).toEqual(['gateway', 'queue', 'upstream']);
      expect(t.upstream).toBeGreaterThan(0);
    }
    // Non-streamed: the whole upstream call (~200 ms); streamed: up to the first chunk.
    expect(serverTiming(answers[0]?.headers['server-timing']).upstream).toBeGreaterThan(100);
  });

  it('a request that queued reports its wait; /metrics counts waits, depth and rejections', async () => {
    const url = stack.gw.url;
    const all = await Promise.all(Array.from({ length: 8 }, () => post(`${url}/api/chat`, chatBody())));
    const queued = all.filter((a) => a.status === 200).map((a) => serverTiming(a.headers['server-timing']));
    expect(Math.max(...queued.map((t) => t.queue ?? 0))).toBeGreaterThan(150);
    expect(all.some((a) => a.status === 503)).toBe(true);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(
      /sutazai_admission_wait_seconds_count\{model="tinyllama",lane="interactive"\} \d+/,
    );
    expect(metrics).toMatch(
      /sutazai_admission_rejections_total\{model="tinyllama",lane="interactive",reason="wait_bound"\} [1-9]/,
    );
    expect(metrics).toMatch(/# TYPE sutazai_admission_queue_depth gauge/);
  });
});
