import { ClientSignal, type CancelSignal } from '../pipeline/cancel.js';
import type { Chunk } from '../pipeline/types.js';

/** What the upstream call started by a flight resolves to (a subset of GenerationResult). */
export interface FlightSource {
  chunks: AsyncIterable<Chunk>;
  model: string;
  upstream: string;
}

export interface Subscription {
  chunks: AsyncIterableIterator<Chunk>;
  model: string;
  upstream: string;
  /** true for the request that started the upstream call, false for joiners. */
  leader: boolean;
}

export interface JoinOptions {
  /** The subscriber's own lifetime (its client); leaving never aborts the call for the others. */
  signal: CancelSignal;
  /** Start the one upstream call, under the flight's own signal (aborted only when all have left). */
  start: (signal: CancelSignal) => Promise<FlightSource>;
  /**
   * Called once with every chunk after the stream ended normally. The flight stays joinable
   * (late joiners replay it from memory) until the returned promise settles, which closes the gap
   * between "upstream finished" and "answer readable from the cache".
   */
  onComplete?: (chunks: readonly Chunk[], meta: { model: string; upstream: string }) => Promise<void> | void;
}

export interface MergerStats {
  inFlight: number;
  /** Upstream calls started through the merger. */
  flights: number;
  /** Requests answered by joining another request's call. */
  merged: number;
  /** Flights aborted because every subscriber went away. */
  abandoned: number;
}

export interface Merger {
  has(key: string): boolean;
  /**
   * Join the flight for `key`, starting it if there is none. Resolves once the flight's first
   * chunk is available; rejects with the flight's error if it fails before that.
   */
  join(key: string, opts: JoinOptions): Promise<Subscription>;
  stats(): MergerStats;
}

interface Flight {
  /** The flight's own cancel handle: a plain object (see pipeline/cancel.ts), not an AbortController. */
  controller: ClientSignal;
  chunks: Chunk[];
  ended: boolean;
  failed: boolean;
  error: unknown;
  meta?: { model: string; upstream: string };
  ready: Promise<void>;
  subscribers: number;
  waiters: Set<() => void>;
  /** Abort the upstream call; called when the last subscriber leaves early. */
  abandon(): void;
}

interface Failure {
  error: unknown;
}
const WAIT = Symbol('wait');
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const toError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

function abortError(signal: CancelSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Single-flight over chunk streams: N concurrent identical requests cause one upstream call. The
 * call runs under the flight's own AbortController, so the first caller leaving does not cut the
 * others off; it is aborted only when every subscriber has gone. Each subscriber reads the shared
 * buffer at its own pace: a late joiner replays the chunks produced so far, then follows live.
 */
export function createMerger(): Merger {
  const flights = new Map<string, Flight>();
  const counters = { flights: 0, merged: 0, abandoned: 0 };

  function notify(f: Flight): void {
    const ws = [...f.waiters];
    f.waiters.clear();
    for (const w of ws) w();
  }

  function start(key: string, opts: JoinOptions): Flight {
    let resolveReady!: () => void;
    let rejectReady!: (e: unknown) => void;
    const ready = new Promise<void>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    ready.catch(() => undefined); // observed by subscribers; never an unhandled rejection
    const f: Flight = {
      controller: new ClientSignal(),
      chunks: [],
      ended: false,
      failed: false,
      error: undefined,
      ready,
      subscribers: 0,
      waiters: new Set(),
      abandon: () => {
        if (f.ended || f.failed || f.controller.aborted) return;
        counters.abandoned++;
        finish();
        f.controller.abort(new DOMException('every subscriber went away', 'AbortError'));
      },
    };
    const finish = () => {
      if (flights.get(key) === f) flights.delete(key);
    };
    flights.set(key, f);
    counters.flights++;

    const pump = async () => {
      try {
        const src = await opts.start(f.controller);
        f.meta = { model: src.model, upstream: src.upstream };
        resolveReady();
        const signal = f.controller;
        for await (const c of src.chunks) {
          // Leaving the loop closes the source, which aborts the upstream request.
          if (signal.aborted) throw abortError(signal);
          f.chunks.push(c);
          notify(f);
        }
        if (signal.aborted) throw abortError(signal);
        f.ended = true;
      } catch (err) {
        f.failed = true;
        f.error = err;
        rejectReady(err);
        finish();
      }
      notify(f);
      if (f.ended && f.meta && opts.onComplete) {
        try {
          await opts.onComplete(f.chunks, f.meta);
        } catch {
          // The writer records its own failures; a failed write only means a later miss.
        }
      }
      finish();
    };
    void pump();
    return f;
  }

  function subscribe(f: Flight, signal: CancelSignal): AsyncIterableIterator<Chunk> & { leave(): void } {
    let i = 0;
    let left = false;
    /** A next() waiting for the flight: settled by wake() when the pump has news. */
    let waiting: { resolve: (r: IteratorResult<Chunk>) => void; reject: (err: unknown) => void } | undefined;
    const leave = () => {
      if (left) return;
      left = true;
      signal.removeEventListener('abort', onAbort);
      f.subscribers--;
      if (f.subscribers === 0) f.abandon();
    };
    // A subscriber whose client has gone leaves at once, even if nobody calls next() again.
    const onAbort = () => {
      leave();
      notify(f);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    /** What next() answers now: a result, a failure, or WAIT when the flight has nothing new. */
    const poll = (): IteratorResult<Chunk> | Failure | typeof WAIT => {
      if (signal.aborted) {
        leave();
        return { error: abortError(signal) };
      }
      if (left) return DONE;
      const c = f.chunks[i];
      if (c !== undefined) {
        i++;
        return { done: false, value: c };
      }
      if (f.failed) {
        leave();
        return { error: f.error };
      }
      if (f.ended) {
        leave();
        return DONE;
      }
      return WAIT;
    };
    // Not async: a chunk the pump pushed settles the waiting next() directly, with no async frame
    // to resume per chunk (every streamed miss passes through here).
    const wake = () => {
      const w = waiting;
      if (w === undefined) return;
      const r = poll();
      if (r === WAIT) {
        f.waiters.add(wake);
        return;
      }
      waiting = undefined;
      if ('error' in r) w.reject(toError(r.error));
      else w.resolve(r);
    };
    const it = {
      leave,
      next(): Promise<IteratorResult<Chunk>> {
        const r = poll();
        if (r === WAIT) {
          return new Promise<IteratorResult<Chunk>>((resolve, reject) => {
            waiting = { resolve, reject };
            f.waiters.add(wake);
          });
        }
        return 'error' in r ? Promise.reject(toError(r.error)) : Promise.resolve(r);
      },
      return(): Promise<IteratorResult<Chunk>> {
        leave();
        return Promise.resolve(DONE);
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }

  return {
    has: (key) => flights.has(key),
    async join(key, opts) {
      if (opts.signal.aborted) throw abortError(opts.signal);
      const existing = flights.get(key);
      const leader = existing === undefined;
      const f = existing ?? start(key, opts);
      if (!leader) counters.merged++;
      f.subscribers++;
      const sub = subscribe(f, opts.signal);
      try {
        await readyOrAborted(f.ready, opts.signal);
      } catch (err) {
        sub.leave();
        throw err;
      }
      const meta = f.meta ?? { model: '', upstream: '' };
      return { chunks: sub, model: meta.model, upstream: meta.upstream, leader };
    },
    stats: () => ({ inFlight: flights.size, ...counters }),
  };
}

/** Resolves with the flight's first chunk; rejects with its error, or when `signal` aborts first. */
function readyOrAborted(ready: Promise<void>, signal: CancelSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    ready.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
