import type { CancelSignal } from '../pipeline/cancel.js';
/**
 * Single-flight for calls that answer with one value (embeddings): concurrent identical calls
 * share one promise. The call runs under its own AbortController, aborted only when every caller
 * has gone.
 */
export interface PromiseMerger<T> {
  join(
    key: string,
    signal: CancelSignal,
    start: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ value: T; leader: boolean }>;
  stats(): { inFlight: number; flights: number; merged: number };
}

interface Call<T> {
  promise: Promise<T>;
  controller: AbortController;
  callers: number;
}

export function createPromiseMerger<T>(): PromiseMerger<T> {
  const calls = new Map<string, Call<T>>();
  const counters = { flights: 0, merged: 0 };

  return {
    join(key, signal, start) {
      if (signal.aborted) return Promise.reject(toError(signal.reason));
      let call = calls.get(key);
      const leader = call === undefined;
      if (!call) {
        const controller = new AbortController();
        const promise = start(controller.signal);
        const c: Call<T> = { promise, controller, callers: 0 };
        calls.set(key, c);
        counters.flights++;
        const done = () => {
          if (calls.get(key) === c) calls.delete(key);
        };
        promise.then(done, done);
        call = c;
      } else counters.merged++;
      const c = call;
      c.callers++;
      return new Promise((resolve, reject) => {
        let settled = false;
        const onAbort = () => {
          if (settled) return;
          settled = true;
          reject(toError(signal.reason));
          if (--c.callers === 0) {
            if (calls.get(key) === c) calls.delete(key);
            c.controller.abort(new DOMException('every caller went away', 'AbortError'));
          }
        };
        signal.addEventListener('abort', onAbort, { once: true });
        c.promise.then(
          (value) => {
            signal.removeEventListener('abort', onAbort);
            if (settled) return;
            settled = true;
            c.callers--;
            resolve({ value, leader });
          },
          (err: unknown) => {
            signal.removeEventListener('abort', onAbort);
            if (settled) return;
            settled = true;
            c.callers--;
            reject(toError(err));
          },
        );
      });
    },
    stats: () => ({ inFlight: calls.size, ...counters }),
  };
}

function toError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new DOMException(typeof e === 'string' ? e : 'This operation was aborted', 'AbortError');
}
