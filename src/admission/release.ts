import type { Chunk } from '../pipeline/types.js';

/**
 * The chunks of an admitted generation, with `onEnd` run exactly once when the stream is over:
 * all read (`true`), failed, or closed early by its reader (`false`). An iterator object rather
 * than an async generator: a generator closed before its first next() would never run its finally.
 */
export function releasingChunks(
  source: AsyncIterable<Chunk>,
  onEnd: (completed: boolean) => void,
): AsyncIterable<Chunk> {
  let ended = false;
  const end = (completed: boolean) => {
    if (ended) return;
    ended = true;
    onEnd(completed);
  };
  let it: AsyncIterator<Chunk> | undefined;
  const iterator: AsyncIterableIterator<Chunk> = {
    async next() {
      if (ended) return { done: true, value: undefined };
      it ??= source[Symbol.asyncIterator]();
      try {
        const r = await it.next();
        if (r.done === true) end(true);
        return r;
      } catch (err) {
        end(false);
        throw err;
      }
    },
    async return(value?: unknown) {
      try {
        it ??= source[Symbol.asyncIterator]();
        if (it.return) await it.return(value);
      } finally {
        end(false);
      }
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return iterator;
}
