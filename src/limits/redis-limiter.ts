import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { CallerKey } from '../pipeline/types.js';
import { WINDOW_MS, type LimitDecision, type Limiter } from './types.js';

/**
 * One script, atomic in Redis: count first (INCR / INCRBY), then compare with the limits, and
 * take the counts back if any limit is broken. Every gateway process shares the counters, so N
 * processes enforce one limit. A window opens with the key's first request in it (PEXPIRE).
 * KEYS: requests, tokens, in-flight. ARGV: rpm, tpm, concurrency (0 = none), estimate, window ms,
 * in-flight TTL ms (a crashed process's slots are given back after it).
 * Returns {refused (0 ok, 1 requests, 2 tokens, 3 concurrency), requests, tokens, ms to reset ×2}.
 */
const ACQUIRE = `
local rpm, tpm, conc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local est, win, cttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local r, t, c = 0, 0, 0
if rpm > 0 then
  r = redis.call('INCR', KEYS[1])
  if r == 1 then redis.call('PEXPIRE', KEYS[1], win) end
end
if tpm > 0 then
  t = redis.call('INCRBY', KEYS[2], est)
  if t == est then redis.call('PEXPIRE', KEYS[2], win) end
end
if conc > 0 then
  c = redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], cttl)
end
local refused = 0
if rpm > 0 and r > rpm then refused = 1
elseif tpm > 0 and t > tpm and t > est then refused = 2
elseif conc > 0 and c > conc then refused = 3 end
if refused > 0 then
  if rpm > 0 then r = redis.call('DECR', KEYS[1]) end
  if tpm > 0 then t = redis.call('DECRBY', KEYS[2], est) end
  if conc > 0 then redis.call('DECR', KEYS[3]) end
end
local rt = 0
local tt = 0
if rpm > 0 then rt = redis.call('PTTL', KEYS[1]) end
if tpm > 0 then tt = redis.call('PTTL', KEYS[2]) end
return {refused, r, t, rt, tt}
`;

/**
 * Requests are over: settle their token reservations (if the window still exists) and free their
 * slots. ARGV: the summed token correction, the number of slots to free.
 */
const FINISH = `
local delta, conc = tonumber(ARGV[1]), tonumber(ARGV[2])
if delta ~= 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('INCRBY', KEYS[1], delta) < 0 then redis.call('SET', KEYS[1], 0, 'KEEPTTL') end
end
if conc > 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('DECRBY', KEYS[2], conc) < 0 then redis.call('SET', KEYS[2], 0, 'KEEPTTL') end
end
return 0
`;

/** Settlements are summed per key and sent together this often (ms): one call per key, not per request. */
const FINISH_BATCH_MS = 10;

const REASONS = [undefined, 'requests', 'tokens', 'concurrency'] as const;
const IN_FLIGHT_TTL_MS = 10 * 60_000;

type LimitRedis = Redis & {
  limitAcquire(a: string, b: string, c: string, ...argv: number[]): Promise<number[]>;
  limitFinish(a: string, b: string, ...argv: number[]): Promise<number>;
};

export interface RedisLimiterOptions {
  redisUrl: string;
  prefix: string;
  /** Per-command timeout (ms); past it the request is let through (fail open). */
  timeoutMs: number;
  logger: FastifyBaseLogger;
}

/**
 * Limits shared by every gateway process through Redis. If Redis does not answer in time the
 * request is let through (a limiter outage must not become a gateway outage), with a warning at
 * most every 10 s.
 */
export function createRedisLimiter(opts: RedisLimiterOptions): Limiter {
  const redis = new Redis(opts.redisUrl, {
    maxRetriesPerRequest: 1,
    commandTimeout: opts.timeoutMs,
    enableOfflineQueue: true,
    // Commands issued in the same tick go out in one write (1000 connections → few syscalls).
    enableAutoPipelining: true,
  }) as LimitRedis;
  redis.on('error', () => undefined);
  redis.defineCommand('limitAcquire', { numberOfKeys: 3, lua: ACQUIRE });
  redis.defineCommand('limitFinish', { numberOfKeys: 2, lua: FINISH });
  const keysOf = (id: string) =>
    [`${opts.prefix}rl:{${id}}:r`, `${opts.prefix}rl:{${id}}:t`, `${opts.prefix}rl:{${id}}:c`] as const;
  let warnedAt = 0;
  const warn = (err: unknown) => {
    if (Date.now() - warnedAt < 10_000) return;
    warnedAt = Date.now();
    opts.logger.warn({ err }, 'rate limiter: Redis did not answer; requests are let through');
  };
  const open: LimitDecision = {
    ok: true,
    remainingRequests: 0,
    remainingTokens: 0,
    resetRequestsMs: 0,
    resetTokensMs: 0,
  };

  const pending = new Map<string, { tokens: number; slots: number }>();
  let flushTimer: NodeJS.Timeout | undefined;
  function flushFinished() {
    flushTimer = undefined;
    for (const [id, p] of pending) {
      const [, t, c] = keysOf(id);
      redis.limitFinish(t, c, p.tokens, p.slots).catch(warn);
    }
    pending.clear();
  }

  return {
    async acquire(id, l: CallerKey, est) {
      const [r, t, c] = keysOf(id);
      try {
        const [refused, requests, tokens, rt, tt] = await redis.limitAcquire(
          r,
          t,
          c,
          l.rpm ?? 0,
          l.tpm ?? 0,
          l.concurrency ?? 0,
          est,
          WINDOW_MS,
          IN_FLIGHT_TTL_MS,
        );
        const reason = REASONS[refused ?? 0];
        return {
          ok: reason === undefined,
          ...(reason ? { reason } : {}),
          remainingRequests: Math.max(0, (l.rpm ?? 0) - (requests ?? 0)),
          remainingTokens: Math.max(0, (l.tpm ?? 0) - (tokens ?? 0)),
          resetRequestsMs: Math.max(0, rt ?? 0),
          resetTokensMs: Math.max(0, tt ?? 0),
        };
      } catch (err) {
        warn(err);
        return open;
      }
    },
    finish(id, l, delta) {
      const tokens = l.tpm === undefined ? 0 : delta;
      const slots = l.concurrency === undefined ? 0 : 1;
      if (tokens === 0 && slots === 0) return;
      // A slot is freed up to FINISH_BATCH_MS late: the limit errs on the safe side, never over.
      const p = pending.get(id);
      if (p) {
        p.tokens += tokens;
        p.slots += slots;
      } else pending.set(id, { tokens, slots });
      flushTimer ??= setTimeout(flushFinished, FINISH_BATCH_MS);
    },
    async close() {
      if (flushTimer) clearTimeout(flushTimer);
      flushFinished();
      // quit() lets the last settlements reach Redis first.
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
