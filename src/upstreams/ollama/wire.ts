import type {
  ChatMessage,
  ChatRequest,
  Chunk,
  EmbedRequest,
  FinishReason,
  GenerateRequest,
  GenerationOptions,
  Timings,
  TokenLogprob,
  ToolCall,
} from '../../pipeline/types.js';
import { errors } from '../../errors/catalogue.js';
import type { ForcedTool } from './forced-tool.js';
import { num, str } from '../json.js';
import type { LoadedModel } from '../types.js';
import type { Json } from '../json.js';
import { toolArguments, toolCallId, wireTools } from '../tool-calls.js';

/**
 * Internal request ↔ Ollama native wire format (/api/chat, /api/generate, /api/embed).
 * Absent options are omitted so the model's Modelfile defaults apply.
 */

export function ollamaOptions(o: GenerationOptions | undefined): Json | undefined {
  if (o === undefined) return undefined;
  const out: Json = {};
  let any = false;
  const set = (key: string, value: unknown): void => {
    if (value !== undefined) {
      out[key] = value;
      any = true;
    }
  };
  if (o.extra !== undefined) {
    for (const key of Object.keys(o.extra)) set(key, o.extra[key]);
  }
  set('temperature', o.temperature);
  set('top_p', o.topP);
  set('top_k', o.topK);
  set('seed', o.seed);
  set('num_predict', o.maxTokens);
  set('stop', o.stop);
  set('presence_penalty', o.presencePenalty);
  set('frequency_penalty', o.frequencyPenalty);
  set('repeat_penalty', o.repeatPenalty);
  set('num_ctx', o.numCtx);
  return any ? out : undefined;
}

function wireMessage(m: ChatMessage): unknown {
  // A plain message already has Ollama's shape (role, content, images?, thinking?): send it as is.
  if (m.toolCalls === undefined && m.toolName === undefined && m.toolCallId === undefined) return m;
  const out: Json = { role: m.role, content: m.content };
  if (m.images !== undefined) out.images = m.images;
  if (m.thinking !== undefined) out.thinking = m.thinking;
  if (m.toolCalls !== undefined) {
    out.tool_calls = m.toolCalls.map((c) => ({
      id: c.id,
      function: { name: c.name, arguments: c.arguments },
    }));
  }
  if (m.toolName !== undefined) out.tool_name = m.toolName;
  if (m.toolCallId !== undefined) out.tool_call_id = m.toolCallId;
  return out;
}

export function chatBody(req: ChatRequest, forced?: ForcedTool): string {
  const body: Json = { model: req.model, messages: req.messages.map(wireMessage), stream: req.stream };
  const options = ollamaOptions(req.options);
  if (options !== undefined) body.options = options;
  if (forced !== undefined) body.format = forced.format;
  else {
    if (req.format !== undefined) body.format = req.format;
    if (req.tools !== undefined && req.tools.length > 0 && req.toolChoice !== 'none')
      body.tools = wireTools(req.tools);
  }
  logprobs(body, req.logprobs);
  if (req.think !== undefined) body.think = req.think;
  if (req.keepAlive !== undefined) body.keep_alive = req.keepAlive;
  return JSON.stringify(body);
}

export function generateBody(req: GenerateRequest): string {
  const body: Json = { model: req.model, prompt: req.prompt, stream: req.stream };
  if (req.system !== undefined) body.system = req.system;
  if (req.suffix !== undefined) body.suffix = req.suffix;
  if (req.images !== undefined && req.images.length > 0) body.images = req.images;
  if (req.raw !== undefined) body.raw = req.raw;
  const options = ollamaOptions(req.options);
  if (options !== undefined) body.options = options;
  if (req.format !== undefined) body.format = req.format;
  if (req.think !== undefined) body.think = req.think;
  if (req.keepAlive !== undefined) body.keep_alive = req.keepAlive;
  logprobs(body, req.logprobs);
  return JSON.stringify(body);
}

/** Ollama ≥ 0.12.11: `logprobs: true` and `top_logprobs` (0–20) on /api/chat and /api/generate. */
function logprobs(body: Json, n: number | undefined): void {
  if (n === undefined) return;
  body.logprobs = true;
  if (n > 0) body.top_logprobs = n;
}

/** Ollama's `logprobs` array (api/types.go Logprob) → internal form. */
export function logprobsOf(obj: Json): TokenLogprob[] | undefined {
  if (!Array.isArray(obj.logprobs) || obj.logprobs.length === 0) return undefined;
  const one = (raw: unknown): TokenLogprob => {
    const o = (raw ?? {}) as Json;
    const t: TokenLogprob = { token: str(o.token), logprob: num(o.logprob) };
    if (Array.isArray(o.bytes)) t.bytes = o.bytes as number[];
    return t;
  };
  return (obj.logprobs as unknown[]).map((raw) => {
    const t = one(raw);
    const top = ((raw ?? {}) as Json).top_logprobs;
    if (Array.isArray(top)) t.top = top.map(one);
    return t;
  });
}

export function embedBody(req: EmbedRequest): string {
  if (req.tokens !== undefined) {
    throw errors.validation(
      'input: token arrays need an OpenAI-compatible upstream (Ollama /api/embed takes text)',
      'input',
    );
  }
  const body: Json = { model: req.model, input: req.input };
  if (req.truncate !== undefined) body.truncate = req.truncate;
  if (req.dimensions !== undefined) body.dimensions = req.dimensions;
  const options = ollamaOptions(req.options);
  if (options !== undefined) body.options = options;
  if (req.keepAlive !== undefined) body.keep_alive = req.keepAlive;
  return JSON.stringify(body);
}

/** Per-response state while reading Ollama objects (one for non-streaming, many for a stream). */
export interface OllamaReadState {
  upstream: string;
  toolCalls: number;
}

/** Text and thinking of one chat (`message.*`) or generate (top-level) object, as a delta chunk. */
export function deltaOf(obj: Json, kind: 'chat' | 'generate'): Chunk | undefined {
  const src = kind === 'chat' ? (obj.message as Json | undefined) : obj;
  if (typeof src !== 'object' || src === null) return undefined;
  const text = str(kind === 'chat' ? src.content : src.response);
  const thinking = str(src.thinking);
  const lp = logprobsOf(obj);
  if (text.length === 0 && thinking.length === 0 && lp === undefined) return undefined;
  const delta: Chunk = thinking.length > 0 ? { type: 'delta', text, thinking } : { type: 'delta', text };
  if (lp !== undefined) delta.logprobs = lp;
  return delta;
}

/** Tool calls of one object (Ollama sends whole calls, arguments as an object). */
export function toolCallsOf(obj: Json, kind: 'chat' | 'generate', st: OllamaReadState): Chunk | undefined {
  const src = kind === 'chat' ? (obj.message as Json | undefined) : obj;
  const raw = typeof src === 'object' && src !== null ? src.tool_calls : undefined;
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  const calls: ToolCall[] = [];
  for (const item of raw as unknown[]) {
    const c = (item ?? {}) as Json;
    const fn = (c.function ?? {}) as Json;
    calls.push({
      id: toolCallId(c.id, st.toolCalls++),
      name: str(fn.name),
      arguments: toolArguments(fn.arguments, st.upstream),
    });
  }
  return { type: 'tool_calls', calls };
}

/** The `done` chunk from Ollama's final object. */
export function doneOf(obj: Json, st: OllamaReadState): Chunk {
  const finishReason: FinishReason =
    st.toolCalls > 0 ? 'tool_calls' : obj.done_reason === 'length' ? 'length' : 'stop';
  const usage = { promptTokens: num(obj.prompt_eval_count), completionTokens: num(obj.eval_count) };
  if (obj.total_duration === undefined && obj.eval_duration === undefined) {
    return { type: 'done', finishReason, usage };
  }
  const timings: Timings = {};
  if (typeof obj.total_duration === 'number') timings.totalDurationNs = obj.total_duration;
  if (typeof obj.load_duration === 'number') timings.loadDurationNs = obj.load_duration;
  if (typeof obj.prompt_eval_duration === 'number') timings.promptEvalDurationNs = obj.prompt_eval_duration;
  if (typeof obj.eval_duration === 'number') timings.evalDurationNs = obj.eval_duration;
  return { type: 'done', finishReason, usage, timings };
}

/** `/api/ps` → the models in memory (`{models:[{name, model, expires_at, size_vram, ...}]}`). */
export function psModels(obj: Json, upstream: string): LoadedModel[] {
  if (!Array.isArray(obj.models)) throw errors.upstreamBadResponse(upstream, 'ps response has no models');
  const out: LoadedModel[] = [];
  for (const item of obj.models as unknown[]) {
    const m = (item ?? {}) as Json;
    const name = str(m.name) || str(m.model);
    if (name === '') continue;
    const entry: LoadedModel = { name };
    if (typeof m.expires_at === 'string') entry.expiresAt = m.expires_at;
    if (typeof m.size_vram === 'number') entry.sizeVram = m.size_vram;
    out.push(entry);
  }
  return out;
}

/** Loads a model without generating and keeps it resident (`keep_alive: -1`). */
export function preloadBody(model: string): string {
  return JSON.stringify({ model, keep_alive: -1, stream: false });
}
