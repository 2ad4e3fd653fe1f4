import type { Chunk, EmbedResult, FinishReason, Timings, TokenLogprob, ToolCall } from '../pipeline/types.js';

/**
 * What the cache holds for one answer. Streams and non-streams share the entry: a generation is
 * kept as its chunk sequence (so a hit on a streaming route replays token by token) in a compact
 * JSON form: a text-only delta is a bare string.
 */
export type CachedAnswer =
  | { kind: 'gen'; model: string; upstream: string; chunks: readonly Chunk[] }
  | { kind: 'embed'; upstream: string; result: EmbedResult };

type CompactChunk =
  | string
  | ['d', string, string]
  | ['l', string, string | null, TokenLogprob[]]
  | ['t', ToolCall[]]
  | ['e', FinishReason, number, number, Timings?];

interface CompactGen {
  v: 1;
  k: 'gen';
  m: string;
  u: string;
  c: CompactChunk[];
}
interface CompactEmbed {
  v: 1;
  k: 'embed';
  u: string;
  r: EmbedResult;
}

function compactChunk(c: Chunk): CompactChunk {
  switch (c.type) {
    case 'delta':
      if (c.logprobs) return ['l', c.text, c.thinking ?? null, c.logprobs];
      return c.thinking ? ['d', c.text, c.thinking] : c.text;
    case 'tool_calls':
      return ['t', c.calls];
    case 'done':
      return c.timings
        ? ['e', c.finishReason, c.usage.promptTokens, c.usage.completionTokens, c.timings]
        : ['e', c.finishReason, c.usage.promptTokens, c.usage.completionTokens];
  }
}

function expandChunk(c: CompactChunk): Chunk {
  if (typeof c === 'string') return { type: 'delta', text: c };
  switch (c[0]) {
    case 'd':
      return { type: 'delta', text: c[1], thinking: c[2] };
    case 'l':
      return c[2] === null
        ? { type: 'delta', text: c[1], logprobs: c[3] }
        : { type: 'delta', text: c[1], thinking: c[2], logprobs: c[3] };
    case 't':
      return { type: 'tool_calls', calls: c[1] };
    case 'e': {
      const usage = { promptTokens: c[2], completionTokens: c[3] };
      return c[4]
        ? { type: 'done', finishReason: c[1], usage, timings: c[4] }
        : { type: 'done', finishReason: c[1], usage };
    }
  }
}

export function encodeAnswer(a: CachedAnswer): string {
  const compact: CompactGen | CompactEmbed =
    a.kind === 'gen'
      ? { v: 1, k: 'gen', m: a.model, u: a.upstream, c: a.chunks.map(compactChunk) }
      : { v: 1, k: 'embed', u: a.upstream, r: a.result };
  return JSON.stringify(compact);
}

/** Parse a stored entry; undefined if it is not one we understand (treated as a miss). */
export function decodeAnswer(text: string): CachedAnswer | undefined {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!o || typeof o !== 'object' || (o as { v?: unknown }).v !== 1) return undefined;
  const e = o as CompactGen | CompactEmbed;
  if (e.k === 'gen' && Array.isArray(e.c)) {
    const chunks = e.c.map((c) => Object.freeze(expandChunk(c)));
    return { kind: 'gen', model: e.m, upstream: e.u, chunks: Object.freeze(chunks) };
  }
  if (e.k === 'embed' && e.r && Array.isArray(e.r.embeddings))
    return { kind: 'embed', upstream: e.u, result: e.r };
  return undefined;
}
