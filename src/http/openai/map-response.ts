import type { Collected } from '../../pipeline/stream.js';
import type { Chunk, EmbedResult, FinishReason, ModelInfo, Usage } from '../../pipeline/types.js';
import { toOpenAIUsage, type OpenAIUsage, type ResponseMeta } from './map-chat-response.js';
import type { EmbeddingEncoding } from './map-request.js';

/** Internal results → OpenAI text_completion, embedding list and model objects (docs/protocols.md C.4–C.6). */

type CompletionFinish = Exclude<FinishReason, 'tool_calls'>;

/** `F` is the finish_reason type: non-null in a full body, null until the end in stream chunks. */
export interface TextCompletion<F = CompletionFinish | null> {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { text: string; index: 0; logprobs: null; finish_reason: F }[];
  usage?: OpenAIUsage | null;
}

/** Legacy completions have no tool calls; a generate call that somehow reports one simply stopped. */
const completionFinish = (r: FinishReason): CompletionFinish => (r === 'length' ? 'length' : 'stop');

export type TextCompletionBody = Omit<TextCompletion<CompletionFinish>, 'usage'> & { usage: OpenAIUsage };

export function completionBody(meta: ResponseMeta, c: Collected): TextCompletionBody {
  return {
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    choices: [{ text: c.text, index: 0, logprobs: null, finish_reason: completionFinish(c.finishReason) }],
    usage: toOpenAIUsage(c.usage),
  };
}

export interface CompletionStreamMapper {
  map: (chunk: Chunk) => TextCompletion[];
  end: () => TextCompletion[];
}

export function createCompletionStreamMapper(
  meta: ResponseMeta,
  includeUsage: boolean,
): CompletionStreamMapper {
  let finished = false;
  const make = (text: string, finish: CompletionFinish | null): TextCompletion => ({
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const closing = (reason: FinishReason, usage: Usage): TextCompletion[] => {
    finished = true;
    const out = [make('', completionFinish(reason))];
    if (includeUsage) {
      out.push({
        id: meta.id,
        object: 'text_completion',
        created: meta.created,
        model: meta.model,
        choices: [],
        usage: toOpenAIUsage(usage),
      });
    }
    return out;
  };
  return {
    map(chunk) {
      if (finished) return [];
      if (chunk.type === 'delta') return chunk.text === '' ? [] : [make(chunk.text, null)];
      if (chunk.type === 'done') return closing(chunk.finishReason, chunk.usage);
      return [];
    },
    end: () => (finished ? [] : closing('stop', { promptTokens: 0, completionTokens: 0 })),
  };
}

/** Little-endian float32 bytes, base64-encoded: what openai-node decodes by default. */
export function encodeEmbeddingBase64(vector: readonly number[]): string {
  const buf = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

export interface EmbeddingList {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

export function embeddingBody(
  result: EmbedResult,
  encoding: EmbeddingEncoding,
  model: string,
): EmbeddingList {
  return {
    object: 'list',
    data: result.embeddings.map((e, index) => ({
      object: 'embedding',
      index,
      embedding: encoding === 'base64' ? encodeEmbeddingBase64(e) : e,
    })),
    model,
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  };
}

export interface OpenAIModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/**
 * `owned_by` as the upstream said it (OpenAI-compatible upstreams); otherwise Ollama's convention:
 * the namespace (`user/model` → `user`), else "library".
 */
export function modelObject(m: ModelInfo): OpenAIModel {
  const slash = m.name.indexOf('/');
  const upstreamOwner = m.details?.owned_by;
  const at = m.modifiedAt ? Date.parse(m.modifiedAt) : NaN;
  return {
    id: m.name,
    object: 'model',
    created: Number.isNaN(at) ? 0 : Math.floor(at / 1000),
    owned_by:
      typeof upstreamOwner === 'string' && upstreamOwner !== ''
        ? upstreamOwner
        : slash > 0
          ? m.name.slice(0, slash)
          : 'library',
  };
}

/** One entry per name (the first upstream listing it wins), in listing order. */
export function modelList(models: readonly ModelInfo[]): { object: 'list'; data: OpenAIModel[] } {
  const seen = new Set<string>();
  const data: OpenAIModel[] = [];
  for (const m of models) {
    if (seen.has(m.name)) continue;
    seen.add(m.name);
    data.push(modelObject(m));
  }
  return { object: 'list', data };
}
