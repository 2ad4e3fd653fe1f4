import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema } from '../../src/store/store.js';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { missing, TEST_DATABASE_URL } from '../helpers/services.js';
import { waitFor } from '../helpers/http.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCHEMA = `t_cluster_${process.pid}_${Date.now().toString(36)}`;

interface MetricsView {
  scope: string;
  processes: Array<{ pid: number }>;
  traffic: { windows: Record<string, { requests: number }> };
  cache: { processes?: number; requests: { total: number } } | null;
}

/** One request on its own connection (so the primary hands each to the next worker). */
function call(base: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${base}${path}`,
      {
        method: data === undefined ? 'GET' : 'POST',
        agent: false,
        headers: { connection: 'close', ...(data ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
const view = async (base: string, scope = '') =>
  JSON.parse((await call(base, `/api/v1/metrics${scope}`)).text) as MetricsView;

describe.skipIf(missing('postgres'))(
  'sutazai serve --processes 2 (node:cluster)',
  { timeout: 90_000 },
  () => {
    let sim: SimHandle;
    let proc: ChildProcess;
    let base = '';
    let stdout = '';

    beforeAll(async () => {
      sim = await startSimulator({ port: 0, models: ['llama3.2'], embedModels: [] });
      proc = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--processes', '2', '--port', '0'],
        {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: tmpdir(),
            OLLAMA_URL: sim.url,
            DATABASE_URL: `${TEST_DATABASE_URL}?schema=${SCHEMA}`,
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      proc.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
      await waitFor(() => /all 2 workers listening/.test(stdout), 60_000, 'two workers');
      base = /SutazAI listening on (http:\/\/[^"]+)/.exec(stdout)?.[1] ?? '';
      expect(base).not.toBe('');
    });

    afterAll(async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      await sim.close();
      await dropSchema(TEST_DATABASE_URL, SCHEMA);
    });

    it('hands new connections to every worker', async () => {
      const pids = new Set<number>();
      for (let i = 0; i < 8; i++) pids.add((await view(base, '?scope=process')).processes[0]!.pid);
      expect(pids.size).toBe(2);
    });

    it('reports traffic, cache stats and Prometheus counters summed over both workers', async () => {
      const before = await view(base);
      const n = 10;
      for (let i = 0; i < n; i++)
        expect((await call(base, '/api/v1/chat', { model: 'llama3.2', message: 'same prompt' })).status).toBe(
          200,
        );
      const stats = JSON.parse((await call(base, '/api/v1/cache/stats')).text) as {
        processes: number;
        requests: { total: number; hits: number; misses: number };
      };
      expect(stats.processes).toBe(2);
      expect(stats.requests.total).toBe(n);
      // One miss per worker (L1 is per process), the rest hits.
      expect(stats.requests.misses).toBe(2);
      await new Promise((r) => setTimeout(r, 600)); // past the view's 0.5 s reuse
      const after = await view(base);
      expect(after.scope).toBe('cluster');
      expect(after.processes).toHaveLength(2);
      expect(after.traffic.windows['1m']!.requests - before.traffic.windows['1m']!.requests).toBe(
        n + 1, // the chats and the cache stats call (not a monitoring route)
      );
      const prom = (await call(base, '/metrics')).text;
      const line = prom
        .split('\n')
        .find((l) => l.startsWith('sutazai_http_requests_total{surface="v1",route="/api/v1/chat"'));
      expect(line?.split(' ').pop()).toBe(String(n));
    });

    it('replaces a worker that is killed', async () => {
      const { processes } = await view(base);
      const victim = processes[0]!.pid;
      process.kill(victim, 'SIGKILL');
      await waitFor(
        async () => {
          const v = await view(base).catch(() => undefined);
          return !!v && v.processes.length === 2 && !v.processes.some((p) => p.pid === victim);
        },
        30_000,
        'a new worker',
      );
      const pids = new Set<number>();
      for (let i = 0; i < 8; i++) pids.add((await view(base, '?scope=process')).processes[0]!.pid);
      expect(pids.size).toBe(2);
      expect(pids.has(victim)).toBe(false);
    });
  },
);

describe('sutazai serve --processes without DATABASE_URL', { timeout: 60_000 }, () => {
  it('refuses to start, naming the setting and the fix', async () => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--processes', '2'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: tmpdir() },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    proc.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise((r) => proc.once('exit', r));
    expect(code).toBe(2);
    expect(stderr).toContain('SUTAZAI_PROCESSES');
    expect(stderr).toContain('DATABASE_URL');
  });
});
