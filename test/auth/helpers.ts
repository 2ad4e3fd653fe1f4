import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TEST_DATABASE_URL } from '../helpers/services.js';

export const ADMIN_KEY = 'admin-key-for-tests-0123456789';

/** Where a test's gateways keep their store: a fresh PostgreSQL schema, or a fresh PGlite dir. */
export async function storeSettings(engine: 'postgres' | 'pglite', tag: string) {
  if (engine === 'postgres') {
    const schema = `t_${tag}_${process.pid}_${Date.now().toString(36)}`;
    return { schema, overrides: { databaseUrl: `${TEST_DATABASE_URL}?schema=${schema}` } };
  }
  return { schema: undefined, overrides: { dataDir: await mkdtemp(join(tmpdir(), `sutazai-${tag}-`)) } };
}

export async function adminCreateKey(gw: TestGateway, body: Record<string, unknown>) {
  const res = await fetch(`${gw.url}/api/v1/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`create key: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; key: string };
}

export const chatBody = (model = 'tinyllama', content = 'hi') =>
  JSON.stringify({ model, messages: [{ role: 'user', content }] });

export { startTestGateway };
