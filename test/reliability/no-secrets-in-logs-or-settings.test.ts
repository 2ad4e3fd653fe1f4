import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { freePort, spawnTs, stop, type Child } from '../queue/processes.js';

/*
 * Security review (issue 23): no secret and no prompt in the logs — at debug level, through
 * successes, upstream failures, a failing stream, a bad request and a task — or in
 * /api/v1/settings. The real CLI, its real log output.
 */

const API_KEY = 'sk-upstream-SECRET-4242';
const WEBHOOK = 'https://hooks.example/alert-SECRET-token';
const CLIENT_KEY = 'Bearer sk-client-SECRET-77';
const PROMPT = 'PROMPT-SECRET-do-not-log';

let sim: SimHandle;
let gw: Child;
let url = '';
const dataDir = mkdtempSync(join(tmpdir(), 'sutazai-secrets-'));

beforeAll(async () => {
  sim = await startSimulator({ port: 0, models: ['tinyllama'], embedModels: ['nomic-embed-text'] });
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  gw = await spawnTs('src/cli/main.ts', ['serve', '--port', String(port)], 'listening', {
    SUTAZAI_UPSTREAMS: `openai=${sim.url}/v1`,
    SUTAZAI_UPSTREAM_API_KEY: API_KEY,
    // Never called here (no alert fires); its token must still never be shown.
    SUTAZAI_ALERT_WEBHOOK_URL: WEBHOOK,
    SUTAZAI_LOG_LEVEL: 'trace',
    SUTAZAI_DATA_DIR: dataDir,
    REDIS_URL: '',
    DATABASE_URL: '',
  });
}, 60_000);

afterAll(async () => {
  await stop(gw);
  await sim.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function post(path: string, body: unknown) {
  const r = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: CLIENT_KEY },
    body: JSON.stringify(body),
  });
  return { status: r.status, text: await r.text() };
}

describe('no secrets or prompts in logs or settings', () => {
  it('settings show no secret', async () => {
    const r = await fetch(`${url}/api/v1/settings`);
    const text = await r.text();
    expect(r.status).toBe(200);
    for (const secret of [API_KEY, WEBHOOK, 'alert-SECRET-token']) expect(text).not.toContain(secret);
  });

  it('logs at trace level through every kind of request carry no secret and no prompt', async () => {
    expect((await post('/api/v1/chat', { message: PROMPT })).status).toBe(200);
    expect(
      (
        await post('/v1/chat/completions', {
          model: 'tinyllama',
          messages: [{ role: 'user', content: PROMPT }],
          stream: true,
        })
      ).status,
    ).toBe(200);
    expect((await post('/api/generate', { model: 'tinyllama', prompt: PROMPT, stream: false })).status).toBe(
      200,
    );
    expect((await post('/api/v1/chat', { message: PROMPT, model: 'no-such-model' })).status).toBe(404);
    expect((await post('/api/v1/chat', { message: PROMPT, options: { temperature: 'hot' } })).status).toBe(
      400,
    );
    sim.setFaults({ failNext: 2, failNextStatus: 500 });
    expect((await post('/api/v1/chat', { message: `${PROMPT} fails` })).status).toBeGreaterThanOrEqual(500);
    sim.setFaults({ failNext: 0 });
    await new Promise((r) => setTimeout(r, 300));
    const out = gw.output();
    expect(out.length).toBeGreaterThan(0);
    for (const secret of [API_KEY, WEBHOOK, 'alert-SECRET-token', 'sk-client-SECRET', PROMPT])
      expect(out, secret).not.toContain(secret);
  });
});
