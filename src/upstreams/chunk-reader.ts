import type { Chunk } from '../pipeline/types.js';
import type { UpstreamCall } from './call.js';
import { asObject, type Json } from './json.js';

/** Maps the items of one upstream answer (NDJSON objects, SSE events, or a whole JSON body) to chunks. */
export interface ItemMapper<T> {
  /** Appends the chunks `item` gives to `out` (usually one, possibly none); throws to fail the answer. */
  item(item: T, out: Chunk[]): void;
  /** The items have ended: appends the last chunks, or throws if the answer was cut short. */
  end(out: Chunk[]): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const ignore = () => undefined;

/** One item as an iterator: a whole (non-streamed) answer read like a stream of one. */
function oneItem<T>(item: T): AsyncIterator<T> {
  let given = false;
  return {
    next() {
      if (given) return Promise.resolve(DONE);
      given = true;
      return Promise.resolve({ done: false, value: item });
    },
  };
}

/**
 * The chunks of one upstream call, as an async iterator over the call's items with one reaction
 * on the items' promise per item. An async generator doing the same (`for await` over the items,
 * `yield` per chunk) resumed its frame and settled several promises per chunk, on every streamed
 * token. The call is made on the first `next()` (`start`); errors are mapped by it (`call.fail`),
 * and it is released (`call.end`, which aborts an unfinished request) when the chunks end, fail,
 * or the consumer stops (`return()`).
 */
export class ChunkReader<T> implements AsyncIterableIterator<Chunk> {
  private readonly out: Chunk[] = [];
  private head = 0;
  private call: UpstreamCall | undefined = undefined;
  private items: AsyncIterator<T> | undefined = undefined;
  /** No more reads: the items ended, failed, or the consumer stopped. */
  private closed = false;

  constructor(
    private readonly start: () => UpstreamCall,
    private readonly open: (call: UpstreamCall) => Promise<AsyncIterator<T>>,
    private readonly mapper: ItemMapper<T>,
  ) {}

  next(): Promise<IteratorResult<Chunk>> {
    if (this.head < this.out.length) return Promise.resolve({ done: false, value: this.take() });
    if (this.closed) return Promise.resolve(DONE);
    return this.read();
  }

  return(): Promise<IteratorResult<Chunk>> {
    this.stop();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Chunk> {
    return this;
  }

  private read(): Promise<IteratorResult<Chunk>> {
    let p: Promise<IteratorResult<T>>;
    try {
      if (this.items !== undefined) p = this.items.next();
      else {
        const call = (this.call ??= this.start());
        p = this.open(call).then(this.opened);
      }
    } catch (err) {
      return Promise.reject(this.failed(err));
    }
    return p.then(this.onItem, this.onError);
  }

  private readonly opened = (items: AsyncIterator<T>): Promise<IteratorResult<T>> => {
    this.items = items;
    return items.next();
  };

  private readonly onItem = (
    r: IteratorResult<T>,
  ): IteratorResult<Chunk> | Promise<IteratorResult<Chunk>> => {
    if (this.closed) return DONE; // the consumer stopped while this read was pending
    try {
      if (r.done === true) {
        this.mapper.end(this.out);
        this.closed = true;
        this.call?.end();
      } else {
        this.call?.check();
        this.mapper.item(r.value, this.out);
      }
    } catch (err) {
      throw this.failed(err);
    }
    if (this.head < this.out.length) return { done: false, value: this.take() };
    if (this.closed) return DONE;
    return this.read(); // an item with no chunk of its own (a usage event, [DONE]): read on
  };

  private readonly onError = (err: unknown): never => {
    throw this.failed(err);
  };

  /** The error to throw for `err` (mapped by the call), after stopping everything. */
  private failed(err: unknown): Error {
    const failure = this.call === undefined ? err : this.call.fail(err);
    this.stop();
    return failure instanceof Error ? failure : new Error(String(failure));
  }

  /** Stops reading: drops unread chunks, closes the items if they had not ended, releases the call. */
  private stop(): void {
    const wasOpen = !this.closed;
    this.closed = true;
    this.out.length = 0;
    this.head = 0;
    if (wasOpen) this.items?.return?.().catch(ignore);
    this.call?.end();
  }

  private take(): Chunk {
    const c = this.out[this.head++]!;
    if (this.head === this.out.length) {
      this.out.length = 0;
      this.head = 0;
    }
    return c;
  }
}

/** The chunks of a whole (non-streamed) JSON answer to `POST path`: `map` turns the object into chunks. */
export function wholeAnswer(
  start: () => UpstreamCall,
  path: string,
  payload: string,
  upstream: string,
  map: (obj: Json, out: Chunk[]) => void,
): ChunkReader<Json> {
  return new ChunkReader(
    start,
    async (call) => oneItem(asObject(await call.readJson(await call.send('POST', path, payload)), upstream)),
    { item: map, end: () => undefined },
  );
}
