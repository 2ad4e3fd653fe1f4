import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { dropSchema } from '../../src/store/index.js';
import { missing, TEST_DATABASE_URL } from '../helpers/services.js';
import { freePort, spawnTs, stop, type Child } from '../queue/processes.js';
import { uniqueName } from '../queue/rig.js';
import { bodies, type FuzzInput } from './fuzz/bodies.js';
import { ENVELOPES, ROUTES, type FuzzRoute } from './fuzz/routes.js';

/*
 * Hostile input, property-based (issue 23, "Hostile input"): every JSON route of every surface
 * (fuzz/routes.ts) gets generated bodies — plausible ones, wrong types, unknown fields,
 * __proto__/constructor keys, truncated and malformed JSON, deep nesting, invalid UTF-8, huge
 * strings and arrays, odd content types — over real HTTP. The property: never a 5xx, and every
 * 4xx in the surface's own envelope. Then the server's RSS is within 20 % of what it was before.
 * Runs are random (fast-check prints the seed and the shrunk input of a failure).
 */

const RUNS = Number(process.env.SUTAZAI_FUZZ_RUNS ?? 10_000);
const LANES = 8;

/** Resident set of a process, bytes (Linux /proc). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

describe.skipIf(missing('postgres'))('fuzz: every JSON route, hostile bodies', () => {
  let sim: SimHandle;
  let gw: Child;
  let pool: Pool;
  const schema = uniqueName('fuzz');
  const dataDir = mkdtempSync(join(tmpdir(), 'sutazai-fuzz-'));
  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      models: ['tinyllama', 'llama3.2'],
      embedModels: ['nomic-embed-text'],
      tps: 0,
      ttftMs: 0,
      parallel: 64,
      maxQueue: 10_000,
      defaultTokens: 8,
    });
    // The gateway in a process of its own, so its RSS is the server's, not the test's.
    const port = await freePort();
    gw = await spawnTs('src/cli/main.ts', ['serve', '--port', String(port)], 'listening', {
      SUTAZAI_UPSTREAMS: `ollama=${sim.url}`,
      DATABASE_URL: `${TEST_DATABASE_URL}?schema=${schema}`,
      REDIS_URL: '',
      SUTAZAI_DATA_DIR: dataDir,
      SUTAZAI_TASK_CONCURRENCY: '2',
      // A small L1: the response cache may legitimately grow to its bound (64 MiB by default),
      // which would hide a leak in the 20 % budget or be mistaken for one.
      SUTAZAI_CACHE_MAX_BYTES: String(1 << 20),
      SUTAZAI_LOG_LEVEL: 'info',
    });
    pool = new Pool(`http://127.0.0.1:${port}`, {
      connections: LANES,
      headersTimeout: 20_000,
      bodyTimeout: 20_000,
    });
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
    await stop(gw);
    await sim?.close();
    await dropSchema(TEST_DATABASE_URL, schema);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const route = fc.constantFrom(...ROUTES).chain((r) => bodies(r).map((input) => ({ r, input })));
  const outcomes = new Map<string, number>();

  async function send(r: FuzzRoute, input: FuzzInput): Promise<void> {
    const headers: Record<string, string> = {};
    if (input.contentType !== undefined) headers['content-type'] = input.contentType;
    const res = await pool.request({ method: r.method, path: r.path, headers, body: input.body });
    const text = await res.body.text();
    const key = `${r.path} ${res.statusCode}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    if (res.statusCode >= 500) throw new Error(`${res.statusCode} from ${r.path}: ${text.slice(0, 300)}`);
    if (res.statusCode >= 400) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`${res.statusCode} from ${r.path} is not JSON: ${text.slice(0, 200)}`);
      }
      if (!ENVELOPES[r.surface](body) && !r.alsoAccepts?.(body))
        throw new Error(
          `${res.statusCode} from ${r.path} not in the ${r.surface} envelope: ${text.slice(0, 200)}`,
        );
    }
  }

  const lanes = (runs: number) =>
    Promise.all(
      Array.from({ length: LANES }, () =>
        fc.assert(
          fc.asyncProperty(route, ({ r, input }) => send(r, input)),
          { numRuns: Math.ceil(runs / LANES), endOnFailure: true },
        ),
      ),
    );

  it(
    `${RUNS} generated requests: no 5xx, every 4xx in its envelope, RSS bounded`,
    // ~20 s on two idle cores; the bound is for a CI machine busy with the rest of the suite.
    { timeout: 400_000 },
    async () => {
      // Warm-up: pools, JIT and the V8 heap at their working size. After 1000 requests the heap
      // was still growing to its plateau (RSS 191 → 228 → 229 → 236 → 169 → 172 MiB over five
      // rounds of 5000: no leak, but a short warm-up reads the plateau as growth).
      // With /v1/messages and /v1/responses in the table, 2000 was short of the plateau (RSS +25 %).
      await lanes(4000);
      const pid = gw.proc.pid ?? 0;
      const before = rssOf(pid);
      const started = Date.now();
      await lanes(RUNS);
      const ms = Date.now() - started;
      const after = rssOf(pid);
      const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
      console.log(
        `fuzz: ${total} requests in ${ms} ms; RSS ${(before / 2 ** 20).toFixed(0)} → ${(after / 2 ** 20).toFixed(0)} MiB`,
      );
      expect(total).toBeGreaterThanOrEqual(RUNS);
      // Answers of every kind came back (not only 400s): the generator reaches the handlers.
      expect([...outcomes.keys()].some((k) => k.endsWith(' 200'))).toBe(true);
      expect(after).toBeLessThan(before * 1.2);
      // And the gateway still answers an ordinary request.
      const ok = await pool.request({
        method: 'POST',
        path: '/api/generate',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tinyllama', prompt: 'after the fuzz', stream: false }),
      });
      expect(ok.statusCode).toBe(200);
      await ok.body.text();
    },
  );
});
