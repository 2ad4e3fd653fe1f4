import { Pool, buildConnector } from 'undici';
import { summarize } from './stats.js';
import type { ConnectStats } from './types.js';

/** A keep-alive connection pool to one origin that times every new TCP connection it opens. */
export interface TimedPool {
  pool: Pool;
  origin: string;
  /** Connect times (ms) of connections opened since the last call; clears the list. */
  takeConnectTimes(): { times: number[]; failed: number };
  /** Requests waiting inside the pool for a free connection. */
  queued(): number;
  close(): Promise<void>;
}

export interface PoolOptions {
  /** Maximum connections (closed loop: the user count; open loop: --connections). */
  connections: number;
  /** undici headersTimeout and bodyTimeout, ms. */
  timeoutMs: number;
  connectTimeoutMs?: number;
}

export function createTimedPool(origin: string, opts: PoolOptions): TimedPool {
  const base = buildConnector({ timeout: opts.connectTimeoutMs ?? 10_000, keepAlive: true });
  let times: number[] = [];
  let failed = 0;
  const connector: buildConnector.connector = (options, callback) => {
    const t0 = process.hrtime.bigint();
    base(options, (...args) => {
      if (args[0] === null) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      else failed++;
      callback(...args);
    });
  };
  const pool = new Pool(origin, {
    connections: opts.connections,
    pipelining: 1,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    // Keep connections between stages; servers may still close idle ones (node:http: 5 s).
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    connect: connector,
  });
  return {
    pool,
    origin,
    takeConnectTimes() {
      const out = { times, failed };
      times = [];
      failed = 0;
      return out;
    },
    queued() {
      return pool.stats.pending;
    },
    close: () => pool.close(),
  };
}

/** Raw result of pre-opening connections (worker threads send these so times can be merged). */
export interface PreconnectRaw {
  times: number[];
  failed: number;
  elapsedMs: number;
}

/**
 * Open up to `n` connections before measuring, by sending `n` concurrent cheap GETs. A busy Node
 * server accepts only ~50-95 new connections per second, so connecting 1000 users inside the
 * measured window would measure the accept queue, not the service; connect time is reported
 * separately instead. Responses of any status count; only transport errors count as failed.
 */
export async function preconnectRaw(
  tp: TimedPool,
  n: number,
  path: string,
  headers: Record<string, string>,
): Promise<PreconnectRaw> {
  tp.takeConnectTimes();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: n }, () =>
      tp.pool
        .request({ origin: tp.origin, method: 'GET', path, headers })
        .then((res) => res.body.dump())
        .catch(() => undefined),
    ),
  );
  const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ...tp.takeConnectTimes(), elapsedMs };
}

export function connectStats(raws: PreconnectRaw[]): ConnectStats {
  const times = raws.flatMap((r) => r.times);
  return {
    opened: times.length,
    elapsedMs: Math.max(0, ...raws.map((r) => r.elapsedMs)),
    connect: summarize(times),
    failed: raws.reduce((a, r) => a + r.failed, 0),
  };
}

export async function preconnect(
  tp: TimedPool,
  n: number,
  path: string,
  headers: Record<string, string>,
): Promise<ConnectStats> {
  return connectStats([await preconnectRaw(tp, n, path, headers)]);
}
