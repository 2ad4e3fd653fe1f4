import { randomBytes } from 'node:crypto';

/**
 * The other worker processes of one `sutazai serve --processes N` (node:cluster), reached over
 * the IPC channel through the primary, which only relays (src/cli/cluster.ts). Used so that
 * `/metrics`, `/api/v1/metrics` and `/api/v1/cache/stats` describe the whole server whichever
 * worker answers, with or without Redis.
 */
export interface PeerLink {
  /** The other workers' answers to `what` (those that answered within the timeout). */
  collect(what: string, arg?: unknown): Promise<unknown[]>;
  /** How this process answers `what` for the others. */
  serve(what: string, fn: (arg: unknown) => unknown): void;
  close(): void;
}

/** IPC messages; every one carries `sutazai: 'peers'` so other IPC traffic is left alone. */
export type PeerMessage =
  | { sutazai: 'peers'; t: 'hello' }
  | { sutazai: 'peers'; t: 'collect'; id: string; what: string; arg?: unknown }
  | { sutazai: 'peers'; t: 'ask'; id: string; what: string; arg?: unknown }
  | { sutazai: 'peers'; t: 'answer'; id: string; value?: unknown; error?: string }
  | { sutazai: 'peers'; t: 'collected'; id: string; values: unknown[] };

export function isPeerMessage(m: unknown): m is PeerMessage {
  return typeof m === 'object' && m !== null && (m as { sutazai?: unknown }).sutazai === 'peers';
}

interface IpcProcess {
  send?: (msg: unknown) => boolean;
  on(ev: 'message', fn: (m: unknown) => void): unknown;
  off(ev: 'message', fn: (m: unknown) => void): unknown;
}

/**
 * The worker side: ask the primary, answer its questions. Until the primary has said hello, the
 * link asks nobody: a worker of another cluster manager (e.g. pm2's cluster mode) would otherwise
 * wait out the timeout on every stats call.
 */
export function createIpcPeerLink(proc: IpcProcess = process, timeoutMs = 2000): PeerLink {
  const handlers = new Map<string, (arg: unknown) => unknown>();
  const pending = new Map<string, (values: unknown[]) => void>();
  let linked = false;
  const send = (m: PeerMessage) => {
    try {
      proc.send?.(m);
    } catch {
      // The primary is gone: this worker is about to be stopped.
    }
  };
  const onMessage = (m: unknown) => {
    if (!isPeerMessage(m)) return;
    if (m.t === 'hello') {
      linked = true;
      return;
    }
    if (m.t === 'collected') {
      pending.get(m.id)?.(m.values);
      return;
    }
    if (m.t !== 'ask') return;
    const fn = handlers.get(m.what);
    if (!fn) {
      send({ sutazai: 'peers', t: 'answer', id: m.id, error: `no handler for ${m.what}` });
      return;
    }
    Promise.resolve()
      .then(() => fn(m.arg))
      .then(
        (value) => send({ sutazai: 'peers', t: 'answer', id: m.id, value }),
        (err: unknown) => send({ sutazai: 'peers', t: 'answer', id: m.id, error: (err as Error).message }),
      );
  };
  proc.on('message', onMessage);
  return {
    collect(what, arg) {
      if (!linked) return Promise.resolve([]);
      const id = randomBytes(6).toString('hex');
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve([]);
        }, timeoutMs);
        timer.unref();
        pending.set(id, (values) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(values);
        });
        send({ sutazai: 'peers', t: 'collect', id, what, ...(arg !== undefined ? { arg } : {}) });
      });
    },
    serve(what, fn) {
      handlers.set(what, fn);
    },
    close() {
      proc.off('message', onMessage);
      for (const done of pending.values()) done([]);
    },
  };
}
