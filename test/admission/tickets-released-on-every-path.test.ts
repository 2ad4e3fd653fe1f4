import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAdmission } from '../../src/admission/controller.js';
import { releasingChunks } from '../../src/admission/release.js';
import { ClientSignal } from '../../src/pipeline/cancel.js';
import type { Chunk } from '../../src/pipeline/types.js';
import type { Stack } from '../helpers/gateway.js';
import { waitFor } from '../helpers/http.js';
import { admissionStack, chatBody, expectNoTickets, post, sleep } from './helpers.js';

// One slot, ~1 s per answer (20 tokens at 20 tokens/s): a second request has to queue.
let stack: Stack;
beforeAll(async () => {
  stack = await admissionStack(
    { parallel: 1, maxQueue: 0, tps: 20, defaultTokens: 20 },
    { upstreamSlots: 1, queueTimeoutMs: 10000 },
  );
});
afterAll(async () => {
  await stack?.close();
});
afterEach(() => {
  stack.sim.setFaults({ failNext: 0, midStreamErrorRate: 0 });
});

const gate = () => stack.gw.services.admission.stats()[0];
const simChats = () => stack.sim.stats().requests['/api/chat'] ?? 0;

/** Send a request and destroy it after `ms` (or after its first body piece with 'first-piece'). */
function abandon(path: string, body: unknown, when: number | 'first-piece'): Promise<void> {
  return new Promise((resolve) => {
    const req = request(`${stack.gw.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.once('data', () => {
        if (when === 'first-piece') req.destroy();
      });
      res.on('close', () => resolve());
    });
    req.on('close', () => resolve());
    req.end(JSON.stringify(body));
    if (typeof when === 'number') setTimeout(() => req.destroy(), when);
  });
}

describe('admission tickets are released exactly once on every path (over HTTP)', () => {
  it('success: non-stream and stream', async () => {
    expect((await post(`${stack.gw.url}/api/chat`, chatBody())).status).toBe(200);
    expect((await post(`${stack.gw.url}/api/chat`, chatBody({ stream: true }))).status).toBe(200);
    await expectNoTickets(stack);
  });

  it('upstream error before the first byte (502)', async () => {
    stack.sim.setFaults({ failNext: 1, failNextStatus: 500 });
    const r = await post(`${stack.gw.url}/api/chat`, chatBody());
    expect(r.status).toBeGreaterThanOrEqual(500);
    await expectNoTickets(stack);
    // The slot is really free: the next request starts at once.
    expect((await post(`${stack.gw.url}/api/chat`, chatBody())).status).toBe(200);
  });

  it('upstream error mid-stream', async () => {
    stack.sim.setFaults({ midStreamErrorRate: 1 });
    const r = await post(`${stack.gw.url}/api/chat`, chatBody({ stream: true }));
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/"error"/);
    await expectNoTickets(stack);
  });

  it('client leaves while queued: it leaves the queue and never reaches the upstream', async () => {
    const busy = post(`${stack.gw.url}/api/chat`, chatBody());
    await waitFor(() => gate()?.active === 1, 2000, 'slot taken');
    const before = simChats();
    await abandon('/api/chat', chatBody(), 200);
    await waitFor(() => gate()?.waiting.interactive === 0, 2000, 'queue left');
    expect((await busy).status).toBe(200);
    await expectNoTickets(stack);
    expect(simChats()).toBe(before);
  });

  it('client leaves mid-stream, and mid non-stream answer', async () => {
    const aborted = stack.sim.stats().aborted;
    await abandon('/api/chat', chatBody({ stream: true }), 'first-piece');
    await expectNoTickets(stack);
    await abandon('/v1/chat/completions', { ...chatBody(), stream: true }, 'first-piece');
    await expectNoTickets(stack);
    await abandon('/api/chat', chatBody(), 300);
    await expectNoTickets(stack);
    await waitFor(() => stack.sim.stats().aborted >= aborted + 3, 2000, 'upstream calls cancelled');
    expect((await post(`${stack.gw.url}/api/chat`, chatBody())).status).toBe(200);
    await expectNoTickets(stack);
  });
});

describe('release mechanics (no HTTP)', () => {
  const source = (): AsyncIterable<Chunk> => ({
    async *[Symbol.asyncIterator]() {
      await sleep(1);
      yield { type: 'delta', text: 'a' };
      yield { type: 'done', finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1 } };
    },
  });

  it('a stream closed before its first read releases once; read to the end releases once', async () => {
    const ends: boolean[] = [];
    const closed = releasingChunks(source(), (c) => ends.push(c));
    await closed[Symbol.asyncIterator]().return?.();
    const read = releasingChunks(source(), (c) => ends.push(c));
    for await (const _ of read) void _;
    expect(ends).toEqual([false, true]);
  });

  it('a ticket released twice frees one slot', () => {
    const a = createAdmission({
      capacity: () => 2,
      settings: {
        timeoutMs: { interactive: 1000, batch: 1000, background: 1000 },
        maxQueue: 10,
        interactiveReserve: 0,
        processes: 1,
        priorServiceMs: 100,
      },
    });
    const sig = new ClientSignal();
    const t1 = a.enter('m', 'interactive', 'x', sig);
    const t2 = a.enter('m', 'interactive', 'x', sig);
    if (!t1 || t1 instanceof Promise || !t2 || t2 instanceof Promise) throw new Error('expected tickets');
    t1.release(true);
    t1.release(true);
    expect(a.stats()[0]?.active).toBe(1);
    t2.release(false);
    expect(a.stats()).toEqual([]);
  });
});
