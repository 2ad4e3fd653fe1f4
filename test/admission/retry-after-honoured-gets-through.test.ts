import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/gateway.js';
import { admissionStack, chatBody, expectNoTickets, post, sleep } from './helpers.js';

// 2 slots, ~100 ms per answer, 1 s bound: about 20 requests fit; 30 polite clients keep it full.
let stack: Stack;
beforeAll(async () => {
  stack = await admissionStack(
    { parallel: 2, maxQueue: 0, tps: 100, defaultTokens: 10 },
    { upstreamSlots: 2, queueTimeoutMs: 1000 },
  );
  expect((await post(`${stack.gw.url}/api/chat`, chatBody())).status).toBe(200);
});
afterAll(async () => {
  await stack?.close();
});

/** A client that, on 503, waits what Retry-After says and asks again; returns its attempts. */
async function politeClient(until: number, stats: { answered: number; attempts: number[] }): Promise<void> {
  while (performance.now() < until) {
    let attempts = 0;
    for (;;) {
      attempts++;
      const r = await post(`${stack.gw.url}/api/chat`, chatBody());
      if (r.status === 200) break;
      expect(r.status).toBe(503);
      const wait = Number(r.headers['retry-after']);
      expect(wait).toBeGreaterThanOrEqual(1);
      await sleep(wait * 1000);
    }
    stats.answered++;
    stats.attempts.push(attempts);
  }
}

describe('Retry-After tells the truth', () => {
  it('every client that honours Retry-After gets answered, in a few attempts', async () => {
    const until = performance.now() + 4000;
    const perClient = Array.from({ length: 30 }, () => ({ answered: 0, attempts: [] as number[] }));
    await Promise.all(perClient.map((s) => politeClient(until, s)));
    for (const s of perClient) expect(s.answered).toBeGreaterThanOrEqual(1);
    const attempts = perClient.flatMap((s) => s.attempts).sort((a, b) => a - b);
    // Most requests get through on the first or second try; none needs more than a handful.
    expect(attempts[Math.floor(attempts.length / 2)]).toBeLessThanOrEqual(2);
    expect(attempts.at(-1)).toBeLessThanOrEqual(6);
    expect(stack.sim.stats().rejected503).toBe(0);
    await expectNoTickets(stack);
  });
});
