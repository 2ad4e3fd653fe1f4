import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { freePort, spawnTs, type Child } from '../queue/processes.js';
import { chatBody, post } from './helpers.js';

// One 4-slot model server that refuses anything beyond its slots (max queue 0), and two gateway
// processes in front of it.
let sim: SimHandle;
let dataDir: string;
const children: Child[] = [];
beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    models: ['tinyllama'],
    embedModels: [],
    parallel: 4,
    maxQueue: 0,
    tps: 100,
    defaultTokens: 10,
  });
  dataDir = await mkdtemp(path.join(tmpdir(), 'sutazai-2gw-'));
});
afterAll(async () => {
  for (const c of children) {
    c.proc.kill('SIGTERM');
    await c.exited;
  }
  await sim?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function gatewayProcess(processes: number): Promise<string> {
  const port = await freePort();
  const child = await spawnTs('src/cli/main.ts', ['serve'], 'listening on', {
    SUTAZAI_PORT: String(port),
    SUTAZAI_UPSTREAMS: `ollama=${sim.url}`,
    SUTAZAI_CACHE_MODE: 'off',
    SUTAZAI_TASK_CONCURRENCY: '0',
    SUTAZAI_DATA_DIR: path.join(dataDir, `gw-${port}`),
    SUTAZAI_UPSTREAM_SLOTS: '4',
    SUTAZAI_ADMISSION_PROCESSES: String(processes),
    SUTAZAI_QUEUE_TIMEOUT_MS: '20000',
    SUTAZAI_LOG_LEVEL: 'info',
  });
  children.push(child);
  return `http://127.0.0.1:${port}`;
}

async function flood(urls: string[], each: number) {
  const all = await Promise.all(
    urls.flatMap((u) => Array.from({ length: each }, () => post(`${u}/api/chat`, chatBody()))),
  );
  return all.map((r) => r.status);
}

describe(
  'two gateway processes sharing one upstream (SUTAZAI_ADMISSION_PROCESSES)',
  { timeout: 60_000 },
  () => {
    it('with processes=2 each schedules 2 of the 4 slots: the server never refuses', async () => {
      const urls = await Promise.all([gatewayProcess(2), gatewayProcess(2)]);
      sim.resetStats();
      const statuses = await flood(urls, 12);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect(sim.stats().rejected503).toBe(0);
    });

    it('with processes=1 (the setting left out) both use all 4 slots and the server refuses some', async () => {
      const urls = await Promise.all([gatewayProcess(1), gatewayProcess(1)]);
      sim.resetStats();
      const statuses = await flood(urls, 12);
      expect(sim.stats().rejected503).toBeGreaterThan(0);
      expect(statuses.some((s) => s === 503)).toBe(true);
    });
  },
);
