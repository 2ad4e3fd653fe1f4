import { isIP } from 'node:net';

export type AuthSetting = 'auto' | 'on' | 'off';

export interface AuthDecision {
  /** Whether every request (but the public few) needs a key. */
  required: boolean;
  /** What to tell the operator at start-up (warn = printed at the default log level). */
  notices: Array<{ level: 'warn' | 'info'; msg: string }>;
}

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

const FIRST_KEY =
  'make the first key with `sutazai keys create --name <name>` against the same store ' +
  '(DATABASE_URL / SUTAZAI_DATA_DIR), or set SUTAZAI_ADMIN_KEY and POST /api/v1/admin/keys with it';

/**
 * `auto` (the default): off when bound to loopback, required anywhere else. An explicit `off` on
 * a reachable address starts, with a warning saying who can now use the models (issue 23, 11).
 */
export function decideAuth(opts: { setting: AuthSetting; host: string; adminKey: boolean }): AuthDecision {
  const { setting, host } = opts;
  const loopback = isLoopback(host);
  const required = setting === 'on' || (setting === 'auto' && !loopback);
  const notices: AuthDecision['notices'] = [];
  if (!required && !loopback) {
    notices.push({
      level: 'warn',
      msg:
        `authentication is OFF while listening on ${host}: anyone who can reach this address can use ` +
        'every model, read every task result, clear the cache and read the settings. Turn keys on: ' +
        `remove SUTAZAI_AUTH=off (or set SUTAZAI_AUTH=on) and ${FIRST_KEY}`,
    });
  }
  if (required) {
    notices.push({
      level: opts.adminKey ? 'info' : 'warn',
      msg:
        `authentication is on (${setting === 'on' ? 'SUTAZAI_AUTH=on' : `${host} is not a loopback address`}): ` +
        'every request needs an API key (Authorization: Bearer <key> or x-api-key)' +
        (opts.adminKey ? '' : `; no SUTAZAI_ADMIN_KEY is set — ${FIRST_KEY}`),
    });
  }
  return { required, notices };
}
