import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/gateway.js';
import { admissionStack, chatBody, expectNoTickets, post } from './helpers.js';

// 2 slots, ~100 ms per answer. Clients are told apart by address (no API keys here): client A
// connects from 127.0.0.2 with 16 requests in flight, client B from 127.0.0.3 with 2.
let stack: Stack;
beforeAll(async () => {
  stack = await admissionStack(
    { parallel: 2, maxQueue: 0, tps: 100, defaultTokens: 10 },
    { upstreamSlots: 2, queueTimeoutMs: 30000 },
  );
});
afterAll(async () => {
  await stack?.close();
});

async function closedLoop(localAddress: string, workers: number, untilMs: number): Promise<number> {
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < untilMs) {
        const r = await post(`${stack.gw.url}/api/chat`, chatBody(), { localAddress });
        expect(r.status).toBe(200);
        done++;
      }
    }),
  );
  return done;
}

describe('admission fairness: callers take turns within a lane', () => {
  it('a client with 2 requests in flight gets about as many answers as one with 16', async () => {
    const until = performance.now() + 3000;
    const [a, b] = await Promise.all([closedLoop('127.0.0.2', 16, until), closedLoop('127.0.0.3', 2, until)]);
    // First come first served would give B about 2/18 of the answers; turns give it about half.
    const shareB = b / (a + b);
    expect(a + b).toBeGreaterThan(30);
    expect(shareB).toBeGreaterThan(0.35);
    expect(stack.sim.stats().rejected503).toBe(0);
    await expectNoTickets(stack);
  });
});
