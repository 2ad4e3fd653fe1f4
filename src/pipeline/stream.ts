import type { Chunk, FinishReason, TokenLogprob, ToolCall, Usage } from './types.js';

/**
 * Pull the first item of `source` now (so errors before any output are thrown to the caller),
 * and return an iterable that yields it followed by the rest. Closing the returned iterator
 * early closes the source (which aborts the upstream request).
 */
export async function primeStream<T>(source: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  let primed: IteratorResult<T> | undefined = first;
  const iterator: AsyncIterableIterator<T> = {
    next() {
      if (primed) {
        const r = primed;
        primed = undefined;
        return Promise.resolve(r);
      }
      return it.next();
    },
    async return(value?: unknown) {
      primed = undefined;
      if (it.return) await it.return(value);
      return { done: true, value: undefined as T };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return iterator;
}

/** A whole generation collected from its chunks (non-streaming responses). */
export interface Collected {
  text: string;
  thinking: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
  timings?: Extract<Chunk, { type: 'done' }>['timings'];
  /** Per-token log probabilities, when the request asked for them and the upstream gave them. */
  logprobs?: TokenLogprob[];
}

/** The `done` chunk that ends a complete answer, or undefined if the answer was cut short. */
export function finalChunk(chunks: readonly Chunk[]): Extract<Chunk, { type: 'done' }> | undefined {
  const last = chunks.at(-1);
  return last?.type === 'done' ? last : undefined;
}

/**
 * Chunks already in memory (a cache hit): iterable like any chunk stream (each iteration starts
 * from the first chunk), and readable at once by code that knows the type (collect(), the metrics
 * stage) with no async step per chunk.
 */
export class ChunkList implements AsyncIterable<Chunk> {
  constructor(readonly items: readonly Chunk[]) {}
  async *[Symbol.asyncIterator](): AsyncGenerator<Chunk> {
    for (const c of this.items) yield c;
  }
}

export async function collect(chunks: AsyncIterable<Chunk>): Promise<Collected> {
  const c = new Collector();
  if (chunks instanceof ChunkList) for (const x of chunks.items) c.add(x);
  else for await (const x of chunks) c.add(x);
  return c.result();
}

class Collector {
  private text = '';
  private thinking = '';
  private readonly toolCalls: ToolCall[] = [];
  private done: Extract<Chunk, { type: 'done' }> | undefined = undefined;
  private logprobs: TokenLogprob[] | undefined = undefined;

  add(c: Chunk): void {
    if (c.type === 'delta') {
      this.text += c.text;
      if (c.thinking) this.thinking += c.thinking;
      if (c.logprobs) (this.logprobs ??= []).push(...c.logprobs);
    } else if (c.type === 'tool_calls') this.toolCalls.push(...c.calls);
    else this.done = c;
  }

  result(): Collected {
    const { text, thinking, toolCalls, done, logprobs } = this;
    return {
      text,
      thinking,
      toolCalls,
      finishReason: done?.finishReason ?? 'stop',
      usage: done?.usage ?? { promptTokens: 0, completionTokens: 0 },
      ...(done?.timings ? { timings: done.timings } : {}),
      ...(logprobs ? { logprobs } : {}),
    };
  }
}
