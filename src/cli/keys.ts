import { parseArgs } from 'node:util';
import pino from 'pino';
import { connectKeyInvalidation } from '../auth/invalidation.js';
import { createKeyService, type NewKeyInput } from '../auth/service.js';
import { loadConfig } from '../config/config.js';
import type { ApiKeyPatch } from '../store/keys.js';
import { createStore } from '../store/store.js';
import { keyView } from '../http/admin/routes.js';

const USAGE = `sutazai keys <command> [flags] — API keys in the store of DATABASE_URL (or SUTAZAI_DATA_DIR)

  create --name NAME [--rpm N] [--tpm N] [--concurrency N] [--models a,b] [--expires ISO-TIME]
         prints the key once; only its hash is stored
  list
  update ID [--name NAME] [--rpm N|none] [--tpm N|none] [--concurrency N|none] [--models a,b|none]
  revoke ID

With REDIS_URL set, running gateways drop a changed key at once; otherwise within SUTAZAI_KEY_CACHE_MS.
The embedded store (no DATABASE_URL) belongs to one process: run this while the gateway is stopped,
or use the admin API (POST /api/v1/admin/keys with SUTAZAI_ADMIN_KEY).
`;

const OPTIONS = {
  name: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  concurrency: { type: 'string' },
  models: { type: 'string' },
  expires: { type: 'string' },
} as const;

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: expected a whole number ≥ 1, got "${v}"`);
  return n;
}
const limitOrNone = (flag: string, v: string | undefined) =>
  v === undefined ? undefined : v === 'none' ? null : positive(flag, v);
const listOf = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** `sutazai keys …`: manage API keys against the same store the gateway uses. Exit code returned. */
export async function runKeysCli(argv: string[], out = process.stdout): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help') {
    out.write(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  const { values: f, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true });
  const config = loadConfig({ env: process.env });
  const logger = pino({ level: 'warn' });
  const store = await createStore({ config });
  const keys = createKeyService({ repo: store.keys, adminKey: undefined, cacheMs: 0, logger });
  const channel = config.redisUrl
    ? connectKeyInvalidation(keys, { redisUrl: config.redisUrl, logger })
    : undefined;
  const print = (v: unknown) => out.write(`${JSON.stringify(v, null, 2)}\n`);
  const id = positionals[0];
  try {
    switch (cmd) {
      case 'create': {
        if (!f.name) throw new Error('create needs --name NAME');
        const input: NewKeyInput = { name: f.name };
        if (f.rpm !== undefined) input.rpm = positive('rpm', f.rpm);
        if (f.tpm !== undefined) input.tpm = positive('tpm', f.tpm);
        if (f.concurrency !== undefined) input.concurrency = positive('concurrency', f.concurrency);
        if (f.models !== undefined) input.models = listOf(f.models);
        if (f.expires !== undefined) {
          const t = Date.parse(f.expires);
          if (Number.isNaN(t)) throw new Error(`--expires: not a date/time: "${f.expires}"`);
          input.expiresAt = t;
        }
        const { record, key } = await keys.create(input);
        print({ ...keyView(record), key });
        process.stderr.write('The key is shown only this once: store it now.\n');
        return 0;
      }
      case 'list':
        print((await keys.list()).map((r) => keyView(r)));
        return 0;
      case 'update':
      case 'revoke': {
        if (!id) throw new Error(`${cmd} needs the key id`);
        let r;
        if (cmd === 'revoke') r = await keys.revoke(id);
        else {
          const patch: ApiKeyPatch = {};
          if (f.name !== undefined) patch.name = f.name;
          const rpm = limitOrNone('rpm', f.rpm);
          const tpm = limitOrNone('tpm', f.tpm);
          const conc = limitOrNone('concurrency', f.concurrency);
          if (rpm !== undefined) patch.rpm = rpm;
          if (tpm !== undefined) patch.tpm = tpm;
          if (conc !== undefined) patch.concurrency = conc;
          if (f.models !== undefined) patch.models = f.models === 'none' ? null : listOf(f.models);
          r = await keys.update(id, patch);
        }
        if (!r) {
          process.stderr.write(`no API key with id '${id}'\n`);
          return 1;
        }
        print(keyView(r));
        return 0;
      }
      default:
        process.stderr.write(`unknown keys command '${cmd}'\n\n${USAGE}`);
        return 2;
    }
  } finally {
    // Let the pub/sub announcement leave before the connection closes.
    if (channel) await new Promise((r) => setTimeout(r, 100));
    await channel?.close();
    await store.close();
  }
}
