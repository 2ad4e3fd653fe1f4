import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { freePort, spawnTs, stop, type Child } from '../queue/processes.js';

// Issue 23, finding 1: upstream URLs with credentials (http://user:pass@host) were shown in full by
// /api/v1/agents and in the start log. Masked everywhere now; the credentials are still used.

const SECRET = 'hunter2-s3cret';

let sim: SimHandle;
let proxy: ReturnType<typeof createServer>;
let gw: Child;
let url = '';
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  sim = await startSimulator({ port: 0, models: ['tinyllama'] });
  // A pass-through in front of the simulator that records the headers the gateway sends.
  proxy = createServer((req, res) => {
    seen.push(req.headers);
    const target = new URL(req.url ?? '/', sim.url);
    void fetch(target, {
      method: req.method ?? 'GET',
      headers: { 'content-type': 'application/json' },
      ...(req.method === 'POST' ? { body: req, duplex: 'half' } : {}),
    }).then(async (r) => {
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await r.arrayBuffer()));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const upPort = (proxy.address() as { port: number }).port;
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  gw = await spawnTs(
    'src/cli/main.ts',
    ['serve', '--port', String(port), '--upstream', `ollama=http://admin:${SECRET}@127.0.0.1:${upPort}`],
    'listening',
    // Its own data dir: a `serve` holds its data dir's lock (finding 6).
    { SUTAZAI_LOG_LEVEL: 'debug', SUTAZAI_DATA_DIR: mkdtempSync(join(tmpdir(), 'sutazai-f01-')) },
  );
}, 30_000);

afterAll(async () => {
  await stop(gw);
  await new Promise((r) => proxy.close(r));
  await sim.close();
});

describe('finding 1: upstream credentials are masked everywhere', () => {
  it('never shows the password: agents, settings, health, metrics, errors, logs', async () => {
    const chat = await fetch(`${url}/api/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'hello there' }),
    });
    expect(chat.status).toBe(200);
    const missingModel = await fetch(`${url}/api/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'hello', model: 'no-such-model' }),
    });
    expect(missingModel.status).toBe(404);
    const pages: Record<string, string> = {};
    for (const path of ['/api/v1/agents', '/api/v1/settings', '/health', '/metrics', '/api/v1/metrics']) {
      const r = await fetch(`${url}${path}`);
      pages[path] = await r.text();
    }
    pages.error = await missingModel.text();
    pages.log = gw.output();
    for (const [where, text] of Object.entries(pages)) {
      expect(text.includes(SECRET), `${where} shows the password`).toBe(false);
    }
    // Still says which upstream it is, with the password masked.
    expect(pages['/api/v1/agents']).toContain('admin:***@127.0.0.1');
    expect(pages.log).toContain('admin:***@127.0.0.1');
  });

  it('still authenticates to the upstream with them (Basic auth)', () => {
    const expected = `Basic ${Buffer.from(`admin:${SECRET}`).toString('base64')}`;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((h) => h.authorization === expected)).toBe(true);
  });
});
