import { createHttpConnection, type HttpConnection } from './raw-http.js';
import { summarize } from './stats.js';
import type { ConnectStats } from './types.js';

/**
 * Keep-alive connections to one origin (raw-http.ts: one socket each, far cheaper per request
 * than undici), and every new TCP connection timed. Not a pool that scans for a free connection
 * on every request (at 1000 connections that cost more CPU than the request). Here a closed-loop
 * user owns connection i for the whole run, and open-loop arrivals lease a free connection from a
 * stack in O(1) (or wait in a FIFO, counted by queued()).
 */
export interface Connections {
  origin: string;
  /** Connection i (created on first use). */
  client(i: number): HttpConnection;
  /** Lease a free connection; resolves when one is free. */
  acquire(): Promise<HttpConnection>;
  release(c: HttpConnection): void;
  /** Leases waiting for a free connection. */
  queued(): number;
  /** Connect times (ms) of connections opened since the last call; clears the list. */
  takeConnectTimes(): { times: number[]; failed: number };
  close(): Promise<void>;
}

export interface ConnectionOptions {
  /** Maximum connections (closed loop: the user count; open loop: --connections). */
  connections: number;
  /** Max wait for any response byte while a request is in flight, ms. */
  timeoutMs: number;
  connectTimeoutMs?: number;
}

export function createConnections(origin: string, opts: ConnectionOptions): Connections {
  let times: number[] = [];
  let failed = 0;
  const onConnect = (ms: number): void => {
    if (Number.isNaN(ms)) failed++;
    else times.push(ms);
  };
  const clients: HttpConnection[] = [];
  const free: HttpConnection[] = [];
  const waiting: ((c: HttpConnection) => void)[] = [];
  const make = (): HttpConnection => {
    const c = createHttpConnection(origin, {
      timeoutMs: opts.timeoutMs,
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      onConnect,
    });
    clients.push(c);
    free.push(c);
    return c;
  };
  const self: Connections = {
    origin,
    client(i) {
      while (clients.length <= i) make();
      return clients[i] as HttpConnection;
    },
    acquire() {
      const c = free.pop() ?? (clients.length < opts.connections ? (make(), free.pop()) : undefined);
      if (c !== undefined) return Promise.resolve(c);
      return new Promise((resolve) => waiting.push(resolve));
    },
    release(c) {
      const next = waiting.shift();
      if (next !== undefined) next(c);
      else free.push(c);
    },
    queued: () => waiting.length,
    takeConnectTimes() {
      const out = { times, failed };
      times = [];
      failed = 0;
      return out;
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
    },
  };
  return self;
}

/** Raw result of pre-opening connections (worker threads send these so times can be merged). */
export interface PreconnectRaw {
  times: number[];
  failed: number;
  elapsedMs: number;
}

/**
 * Open connections 0..n-1 before measuring, one cheap GET on each. A busy Node server accepts
 * only ~50-95 new connections per second, so connecting 1000 users inside the measured window
 * would measure the accept queue, not the service; connect time is reported separately instead.
 * Responses of any status count; only transport errors count as failed.
 */
export async function preconnectRaw(
  conns: Connections,
  n: number,
  path: string,
  headers: Record<string, string>,
): Promise<PreconnectRaw> {
  conns.takeConnectTimes();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      conns
        .client(i)
        .request({ method: 'GET', path, headers })
        .then((res) => res.body.dump())
        .catch(() => undefined),
    ),
  );
  const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ...conns.takeConnectTimes(), elapsedMs };
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
