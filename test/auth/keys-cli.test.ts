import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { dropSchema } from '../../src/store/index.js';
import type { TestGateway } from '../helpers/gateway.js';
import { missing, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services.js';
import { chatBody, startTestGateway } from './helpers.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCHEMA = `t_keyscli_${process.pid}_${Date.now().toString(36)}`;
const DB = `${TEST_DATABASE_URL}?schema=${SCHEMA}`;

/** `sutazai keys …` as a separate process against the gateway's PostgreSQL store and Redis. */
async function keysCli(...args: string[]) {
  const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'keys', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), DATABASE_URL: DB, REDIS_URL: TEST_REDIS_URL },
    timeout: 60_000,
  });
  return JSON.parse(r.stdout) as Record<string, unknown> & Array<Record<string, unknown>>;
}

describe('sutazai keys CLI', () => {
  let sim: SimHandle;
  let gw: TestGateway;
  beforeAll(async () => {
    expect(missing('postgres', 'redis'), 'PostgreSQL and Redis are needed').toBe(false);
    sim = await startSimulator({ port: 0, models: ['tinyllama'], tps: 0 });
    gw = await startTestGateway({
      upstreams: [`ollama=${sim.url}`],
      authMode: 'on',
      databaseUrl: DB,
      redisUrl: TEST_REDIS_URL,
      cachePrefix: `t-keyscli-${process.pid}:`,
      keyCacheMs: 60_000,
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await sim?.close();
    await dropSchema(TEST_DATABASE_URL, SCHEMA);
  });

  const chat = (key: string) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: chatBody(),
    });

  it('create → the running gateway accepts it; update; revoke → 401 at once (cache TTL 60 s)', async () => {
    const created = await keysCli('create', '--name', 'cli', '--rpm', '100', '--models', 'tinyllama');
    expect(created.key).toMatch(/^sk-sutazai-/);
    expect(created.rpm).toBe(100);
    expect((await chat(created.key as string)).status).toBe(200);

    const list = await keysCli('list');
    expect(list.map((k) => k.id)).toContain(created.id);
    expect(JSON.stringify(list)).not.toContain(created.key as string);

    const updated = await keysCli('update', created.id as string, '--rpm', 'none', '--tpm', '5000');
    expect(updated).toMatchObject({ rpm: null, tpm: 5000 });

    const revoked = await keysCli('revoke', created.id as string);
    expect(revoked.status).toBe('revoked');
    // Announced over Redis: the gateway drops its cached key although its TTL is a minute.
    const t0 = Date.now();
    let status = 0;
    while (Date.now() - t0 < 2000) {
      status = (await chat(created.key as string)).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(401);
  }, 120_000);
});
