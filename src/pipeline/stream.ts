import type { Chunk, FinishReason, ToolCall, Usage } from './types.js';

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
}

export async function collect(chunks: AsyncIterable<Chunk>): Promise<Collected> {
  let text = '';
  let thinking = '';
  const toolCalls: ToolCall[] = [];
  let done: Extract<Chunk, { type: 'done' }> | undefined;
  for await (const c of chunks) {
    if (c.type === 'delta') {
      text += c.text;
      if (c.thinking) thinking += c.thinking;
    } else if (c.type === 'tool_calls') toolCalls.push(...c.calls);
    else done = c;
  }
  return {
    text,
    thinking,
    toolCalls,
    finishReason: done?.finishReason ?? 'stop',
    usage: done?.usage ?? { promptTokens: 0, completionTokens: 0 },
    ...(done?.timings ? { timings: done.timings } : {}),
  };
}
