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
  /** The upstream's chunks, once the call has answered; read on demand by the subscribers. */
  source: AsyncIterator<Chunk> | undefined;
  /** A read of `source` is in progress (at most one at a time). */
  pulling: boolean;
  /**
   * The source has ended and the answer is being written; the flight ends (and its subscribers
   * see the end) once that settles. Nobody reads the source meanwhile (`pulling` stays set).
   */
  writing: boolean;
  ready: Promise<void>;
  subscribers: number;
  waiters: Set<() => void>;
  /** Abort the upstream call; called when the last subscriber leaves early. */
  abandon(): void;
  /** Records a read of `source` (its result or its failure) and wakes the waiting subscribers. */
  readonly pulled: (r: IteratorResult<Chunk>) => void;
  readonly pullFailed: (err: unknown) => void;
}

interface Failure {
  error: unknown;
}
const WAIT = Symbol('wait');
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const toError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));
const ignore = () => undefined;

function abortError(signal: CancelSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Single-flight over chunk streams: N concurrent identical requests cause one upstream call. The
 * call runs under the flight's own cancel signal, so the first caller leaving does not cut the
 * others off; it is aborted only when every subscriber has gone. The upstream is read on demand,
 * one chunk at a time, by whichever subscriber first needs a chunk the flight does not have yet,
 * into a shared buffer that each subscriber reads at its own pace: a late joiner replays the
 * chunks read so far, then follows live. A flight with a single subscriber (every miss nobody
 * else asked for) hands each chunk straight from the source's promise to its reader: no loop of
 * its own, no promise and no wake-up per chunk.
 */
export function createMerger(): Merger {
  const flights = new Map<string, Flight>();
  const counters = { flights: 0, merged: 0, abandoned: 0 };

  function notify(f: Flight): void {
    if (f.waiters.size === 0) return;
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
    ready.catch(ignore); // observed by subscribers; never an unhandled rejection
    const f: Flight = {
      controller: new ClientSignal(),
      chunks: [],
      ended: false,
      failed: false,
      error: undefined,
      source: undefined,
      pulling: false,
      writing: false,
      ready,
      subscribers: 0,
      waiters: new Set(),
      pulled,
      pullFailed,
      abandon: () => {
        // Also nothing to stop while the finished answer is being written.
        if (f.ended || f.writing || f.failed || f.controller.aborted) return;
        counters.abandoned++;
        finish();
        f.controller.abort(new DOMException('every subscriber went away', 'AbortError'));
        // Closing the source ends its taps (metrics count the call as aborted) and the adapter's call.
        f.source?.return?.().catch(ignore);
      },
    };
    const finish = () => {
      if (flights.get(key) === f) flights.delete(key);
    };
    flights.set(key, f);
    counters.flights++;

    let started: Promise<FlightSource>;
    try {
      started = opts.start(f.controller);
    } catch (err) {
      started = Promise.reject(toError(err));
    }
    started.then(
      (src) => {
        f.meta = { model: src.model, upstream: src.upstream };
        f.source = src.chunks[Symbol.asyncIterator]();
        // Every subscriber may have left while the call was starting.
        if (f.controller.aborted) f.source.return?.().catch(ignore);
        resolveReady();
      },
      (err: unknown) => {
        f.failed = true;
        f.error = err;
        rejectReady(err);
        finish();
      },
    );

    /**
     * After the last chunk: write the answer, then end the flight. Subscribers see the end only
     * once the write has settled, so by the time a response has ended its answer is readable from
     * the cache (on every gateway sharing L2): a repeat sent after it is a hit, never a join of a
     * flight that is only waiting for its write. Joiners arriving meanwhile replay the flight.
     */
    const complete = () => {
      const end = () => {
        finish();
        f.pulling = false;
        f.writing = false;
        f.ended = true;
        notify(f);
      };
      if (f.meta === undefined || opts.onComplete === undefined) return end();
      let written: Promise<void> | void;
      try {
        written = opts.onComplete(f.chunks, f.meta);
      } catch {
        written = undefined; // the writer records its own failures; a failed write is a later miss
      }
      if (written === undefined) end();
      else written.then(end, end);
    };

    function pulled(r: IteratorResult<Chunk>): void {
      f.pulling = false;
      if (f.controller.aborted) {
        f.failed = true;
        f.error = abortError(f.controller);
      } else if (r.done) {
        f.pulling = true;
        f.writing = true;
        complete();
        return; // subscribers are told when the flight has ended (after the write)
      } else f.chunks.push(r.value);
      notify(f);
    }
    function pullFailed(err: unknown): void {
      f.pulling = false;
      f.failed = true;
      f.error = err;
      finish();
      notify(f);
    }
    return f;
  }

  /** Reads the flight's next chunk for whoever waits (several subscribers: each is woken). */
  function pull(f: Flight): Promise<IteratorResult<Chunk>> | undefined {
    if (f.pulling || f.source === undefined || f.ended || f.failed) return undefined;
    f.pulling = true;
    try {
      return f.source.next();
    } catch (err) {
      return Promise.reject(toError(err));
    }
  }

  function subscribe(f: Flight, signal: CancelSignal): AsyncIterableIterator<Chunk> & { leave(): void } {
    let i = 0;
    let left = false;
    /** A next() waiting for another subscriber's read: settled by wake() when the flight has news. */
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
    // This subscriber's own read (it is the only one): the flight records the chunk (or the
    // failure), then the subscriber takes its answer, in one reaction on the source's promise.
    const afterOwnRead = (): IteratorResult<Chunk> | Promise<IteratorResult<Chunk>> => {
      const mine = poll();
      if (mine === WAIT) return it.next();
      if ('error' in mine) throw toError(mine.error);
      return mine;
    };
    const ownRead = (r: IteratorResult<Chunk>) => {
      f.pulled(r);
      return afterOwnRead();
    };
    const ownReadFailed = (err: unknown) => {
      f.pullFailed(err);
      return afterOwnRead();
    };
    const wake = () => {
      const w = waiting;
      if (w === undefined) return;
      const r = poll();
      if (r === WAIT) {
        f.waiters.add(wake);
        pull(f)?.then(f.pulled, f.pullFailed);
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
        if (r !== WAIT) return 'error' in r ? Promise.reject(toError(r.error)) : Promise.resolve(r);
        const read = pull(f);
        if (read !== undefined && f.subscribers === 1) return read.then(ownRead, ownReadFailed);
        read?.then(f.pulled, f.pullFailed);
        return new Promise<IteratorResult<Chunk>>((resolve, reject) => {
          waiting = { resolve, reject };
          f.waiters.add(wake);
        });
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
