import type { Collected } from '../../pipeline/stream.js';
import type {
  Chunk,
  EmbedResult,
  FinishReason,
  ModelInfo,
  Timings,
  TokenLogprob,
  ToolCall,
  Usage,
} from '../../pipeline/types.js';

/** Internal chunks/results → Ollama native NDJSON lines and bodies (docs/protocols.md A.1–A.7). */

/** Durations the surface measured itself, used where the upstream reported no timings (ns). */
export interface Measured {
  totalNs: number;
  /** Request start → first chunk. */
  promptEvalNs: number;
  /** First chunk → done. */
  evalNs: number;
}

export interface OllamaMetrics {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

export type DoneReason = 'stop' | 'length' | 'load' | 'unload';

/** Ollama reports a tool-calling turn as a plain `stop`. */
export const doneReason = (r: FinishReason): DoneReason => (r === 'length' ? 'length' : 'stop');

/** Every metric field, always present (clients read them unguarded): upstream timings first, else measured. */
export function metrics(usage: Usage, timings: Timings | undefined, m: Measured): OllamaMetrics {
  const int = (n: number) => Math.max(0, Math.round(n));
  return {
    total_duration: int(timings?.totalDurationNs ?? m.totalNs),
    load_duration: int(timings?.loadDurationNs ?? 0),
    prompt_eval_count: int(usage.promptTokens || 0),
    prompt_eval_duration: int(timings?.promptEvalDurationNs ?? m.promptEvalNs),
    eval_count: int(usage.completionTokens || 0),
    eval_duration: int(timings?.evalDurationNs ?? m.evalNs),
  };
}

export interface OllamaToolCall {
  id: string;
  function: { index: number; name: string; arguments: Record<string, unknown> };
}

export const toOllamaToolCalls = (calls: readonly ToolCall[], first: number): OllamaToolCall[] =>
  calls.map((c, i) => ({ id: c.id, function: { index: first + i, name: c.name, arguments: c.arguments } }));

export interface ChatMessageOut {
  role: 'assistant';
  content: string;
  thinking?: string;
  tool_calls?: OllamaToolCall[];
}

/** Ollama's `Logprob` (api/types.go): token, logprob, bytes?, top_logprobs?. */
export interface OllamaLogprob {
  token: string;
  logprob: number;
  bytes?: number[];
  top_logprobs?: { token: string; logprob: number; bytes?: number[] }[];
}

export function toOllamaLogprobs(list: readonly TokenLogprob[]): OllamaLogprob[] {
  return list.map((t) => {
    const out: OllamaLogprob = { token: t.token, logprob: t.logprob };
    if (t.bytes) out.bytes = t.bytes;
    if (t.top && t.top.length > 0) out.top_logprobs = t.top;
    return out;
  });
}

export interface ChatLine {
  model: string;
  created_at: string;
  message: ChatMessageOut;
  done: boolean;
  done_reason?: DoneReason;
  logprobs?: OllamaLogprob[];
}

export interface GenerateLine {
  model: string;
  created_at: string;
  response: string;
  thinking?: string;
  done: boolean;
  done_reason?: DoneReason;
  logprobs?: OllamaLogprob[];
}

export type ChatDone = ChatLine & OllamaMetrics & { done: true; done_reason: DoneReason };
export type GenerateDone = GenerateLine & OllamaMetrics & { done: true; done_reason: DoneReason };

let isoMs = 0;
let iso = '';
/** The current time as RFC 3339, formatted at most once per millisecond (every streamed line carries one). */
export function createdAtNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    iso = new Date(now).toISOString();
  }
  return iso;
}

export interface LineMeta {
  model: string;
  /** RFC 3339 timestamp for `created_at`. */
  createdAt: string;
}

/**
 * One streamed chat line for a delta or tool-call chunk (undefined for chunks with nothing to send).
 * `toolIndex` is the index of the first call in this chunk within the whole response.
 */
export function chatLine(
  meta: LineMeta,
  chunk: Exclude<Chunk, { type: 'done' }>,
  toolIndex: number,
): ChatLine | undefined {
  const message: ChatMessageOut = { role: 'assistant', content: '' };
  if (chunk.type === 'delta') {
    if (chunk.text === '' && !chunk.thinking && !chunk.logprobs) return undefined;
    message.content = chunk.text;
    if (chunk.thinking) message.thinking = chunk.thinking;
  } else {
    if (chunk.calls.length === 0) return undefined;
    message.tool_calls = toOllamaToolCalls(chunk.calls, toolIndex);
  }
  const line: ChatLine = { model: meta.model, created_at: meta.createdAt, message, done: false };
  if (chunk.type === 'delta' && chunk.logprobs) line.logprobs = toOllamaLogprobs(chunk.logprobs);
  return line;
}

export function chatDoneLine(meta: LineMeta, done: Extract<Chunk, { type: 'done' }>, m: Measured): ChatDone {
  return {
    model: meta.model,
    created_at: meta.createdAt,
    message: { role: 'assistant', content: '' },
    done: true,
    done_reason: doneReason(done.finishReason),
    ...metrics(done.usage, done.timings, m),
  };
}

export function chatBody(meta: LineMeta, c: Collected, m: Measured): ChatDone {
  const message: ChatMessageOut = { role: 'assistant', content: c.text };
  if (c.thinking) message.thinking = c.thinking;
  if (c.toolCalls.length > 0) message.tool_calls = toOllamaToolCalls(c.toolCalls, 0);
  const body: ChatDone = {
    model: meta.model,
    created_at: meta.createdAt,
    message,
    done: true,
    done_reason: doneReason(c.finishReason),
    ...metrics(c.usage, c.timings, m),
  };
  if (c.logprobs) body.logprobs = toOllamaLogprobs(c.logprobs);
  return body;
}

/** Generate has no tool calls on the wire; only text and thinking deltas produce lines. */
export function generateLine(
  meta: LineMeta,
  chunk: Exclude<Chunk, { type: 'done' }>,
): GenerateLine | undefined {
  if (chunk.type !== 'delta' || (chunk.text === '' && !chunk.thinking && !chunk.logprobs)) return undefined;
  const line: GenerateLine = {
    model: meta.model,
    created_at: meta.createdAt,
    response: chunk.text,
    done: false,
  };
  if (chunk.thinking) line.thinking = chunk.thinking;
  if (chunk.logprobs) line.logprobs = toOllamaLogprobs(chunk.logprobs);
  return line;
}

export function generateDoneLine(
  meta: LineMeta,
  done: Extract<Chunk, { type: 'done' }>,
  m: Measured,
): GenerateDone {
  return {
    model: meta.model,
    created_at: meta.createdAt,
    response: '',
    done: true,
    done_reason: doneReason(done.finishReason),
    ...metrics(done.usage, done.timings, m),
  };
}

export function generateBody(meta: LineMeta, c: Collected, m: Measured): GenerateDone {
  const body: GenerateDone = {
    model: meta.model,
    created_at: meta.createdAt,
    response: c.text,
    done: true,
    done_reason: doneReason(c.finishReason),
    ...metrics(c.usage, c.timings, m),
  };
  if (c.thinking) body.thinking = c.thinking;
  if (c.logprobs) body.logprobs = toOllamaLogprobs(c.logprobs);
  return body;
}

/** Answer to an empty chat/prompt: Ollama loads (or unloads) the model and says so. */
export function loadBody(
  meta: LineMeta,
  kind: 'chat' | 'generate',
  reason: 'load' | 'unload',
): ChatLine | GenerateLine {
  return kind === 'chat'
    ? {
        model: meta.model,
        created_at: meta.createdAt,
        message: { role: 'assistant', content: '' },
        done: true,
        done_reason: reason,
      }
    : { model: meta.model, created_at: meta.createdAt, response: '', done: true, done_reason: reason };
}

export function embedBody(model: string, r: EmbedResult, totalNs: number) {
  return {
    model,
    embeddings: r.embeddings,
    total_duration: Math.round(totalNs),
    load_duration: 0,
    prompt_eval_count: r.promptTokens,
  };
}

export const embeddingsBody = (r: EmbedResult) => ({ embedding: r.embeddings[0] ?? [] });

const EPOCH = '1970-01-01T00:00:00Z';

export function modelDetails(m: ModelInfo): Record<string, unknown> {
  return {
    parent_model: '',
    format: '',
    family: '',
    families: null,
    parameter_size: '',
    quantization_level: '',
    ...m.details,
  };
}

export interface TagEntry {
  name: string;
  model: string;
  modified_at: string;
  size: number;
  digest: string;
  details: Record<string, unknown>;
  capabilities?: string[];
}

/** `/api/tags`: one entry per name across all upstreams (first listing wins). */
export function tagsBody(models: readonly ModelInfo[]): { models: TagEntry[] } {
  const seen = new Set<string>();
  const out: TagEntry[] = [];
  for (const m of models) {
    if (seen.has(m.name)) continue;
    seen.add(m.name);
    const entry: TagEntry = {
      name: m.name,
      model: m.name,
      modified_at: m.modifiedAt ?? EPOCH,
      size: m.size ?? 0,
      digest: m.digest ?? '',
      details: modelDetails(m),
    };
    if (m.capabilities) entry.capabilities = m.capabilities;
    out.push(entry);
  }
  return { models: out };
}

/**
 * `/api/show` synthesized from the model listing: the adapters have no "show" call, so modelfile,
 * template, parameters and model_info are empty.
 */
export function showBody(m: ModelInfo) {
  return {
    modelfile: '',
    parameters: '',
    template: '',
    details: modelDetails(m),
    model_info: {},
    capabilities: m.capabilities ?? ['completion'],
    modified_at: m.modifiedAt ?? EPOCH,
  };
}
