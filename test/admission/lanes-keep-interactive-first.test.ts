import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/gateway.js';
import { postJson, waitFor } from '../helpers/http.js';
import { admissionStack, chatBody, expectNoTickets, post, serverTiming } from './helpers.js';

// 4 slots, each answer ~200 ms (10 tokens at 50 tokens/s). The simulator refuses anything beyond
// its 4 slots (max queue 0), so a test passes only if the gateway never oversubscribes it.
const SERVICE_MS = 200;
const stacks: Stack[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const s of stacks) await s.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function floodedStack(reserve: number) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sutazai-lanes-'));
  dirs.push(dataDir);
  const stack = await admissionStack(
    { parallel: 4, maxQueue: 0, tps: 50, defaultTokens: 10 },
    {
      upstreamSlots: 4,
      queueInteractiveReserve: reserve,
      batchConcurrency: 30,
      taskConcurrency: 20,
      defaultModel: 'tinyllama',
      dataDir,
    },
  );
  stacks.push(stack);
  expect((await post(`${stack.gw.url}/api/chat`, chatBody())).status).toBe(200);
  // A v1 batch of 30 items and 20 tasks at once: far more than the 4 slots.
  const batch = postJson(`${stack.gw.url}/api/v1/batch`, {
    model: 'tinyllama',
    use_cache: false,
    prompts: Array.from({ length: 30 }, (_, i) => `batch item ${i} ${Math.random()}`),
  });
  for (let i = 0; i < 20; i++) {
    const r = await postJson(`${stack.gw.url}/api/v1/tasks`, {
      task_type: 'text_generation',
      payload: { prompt: `task ${i} ${Math.random()}` },
    });
    expect(r.status).toBe(202);
  }
  const waiting = () => {
    const s = stack.gw.services.admission.stats()[0];
    return s ? s.waiting.batch + s.waiting.background : 0;
  };
  await waitFor(() => waiting() >= 10, 5000, 'batch and task items queued');
  return { stack, batch, waiting };
}

/** Five interactive requests one after another during the flood: their queue wait (Server-Timing). */
async function interactiveWaits(stack: Stack, stillFlooded: () => number): Promise<number[]> {
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await post(`${stack.gw.url}/api/chat`, chatBody());
    expect(r.status).toBe(200);
    expect(stillFlooded()).toBeGreaterThan(0);
    waits.push(serverTiming(r.headers['server-timing']).queue ?? NaN);
  }
  return waits;
}

describe(
  'admission lanes: a batch and a task flood do not hold up interactive requests',
  { timeout: 60_000 },
  () => {
    it('with the default reserve (1 of 4 slots), an interactive request starts at once', async () => {
      const { stack, batch, waiting } = await floodedStack(0.25);
      const waits = await interactiveWaits(stack, waiting);
      for (const w of waits) expect(w).toBeLessThan(SERVICE_MS / 2);
      const done = await batch;
      expect(done.json.succeeded).toBe(30);
      expect(stack.sim.stats().rejected503).toBe(0);
      await waitFor(() => stack.gw.services.admission.stats().length === 0, 30000, 'flood drained');
      await expectNoTickets(stack);
    });

    it('with no reserve, an interactive request waits at most one service time', async () => {
      const { stack, batch, waiting } = await floodedStack(0);
      const waits = await interactiveWaits(stack, waiting);
      for (const w of waits) expect(w).toBeLessThanOrEqual(SERVICE_MS * 1.25);
      expect((await batch).json.succeeded).toBe(30);
      expect(stack.sim.stats().rejected503).toBe(0);
      await waitFor(() => stack.gw.services.admission.stats().length === 0, 30000, 'flood drained');
    });
  },
);
