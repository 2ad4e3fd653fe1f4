import type {
  ChatMessage,
  ChatRequest,
  Chunk,
  EmbedRequest,
  FinishReason,
  GenerateRequest,
  GenerationOptions,
  OutputFormat,
  Timings,
  TokenLogprob,
  ToolChoice,
} from '../../pipeline/types.js';
import { num } from '../json.js';
import type { Json } from '../json.js';
import { wireTools } from '../tool-calls.js';

/**
 * Internal request ↔ OpenAI-compatible wire format (/chat/completions, /completions, /embeddings).
 * Only OpenAI's sampling fields plus `top_k` (accepted by vLLM and llama.cpp, ignored by Ollama's
 * /v1) are sent; Ollama-only options (repeatPenalty, numCtx, extra) have no portable equivalent
 * and are dropped.
 */

function sampling(body: Json, o: GenerationOptions | undefined): void {
  if (o === undefined) return;
  if (o.temperature !== undefined) body.temperature = o.temperature;
  if (o.topP !== undefined) body.top_p = o.topP;
  if (o.topK !== undefined) body.top_k = o.topK;
  if (o.seed !== undefined) body.seed = o.seed;
  if (o.maxTokens !== undefined) body.max_tokens = o.maxTokens;
  if (o.stop !== undefined && o.stop.length > 0) body.stop = o.stop;
  if (o.presencePenalty !== undefined) body.presence_penalty = o.presencePenalty;
  if (o.frequencyPenalty !== undefined) body.frequency_penalty = o.frequencyPenalty;
}

function streaming(body: Json, stream: boolean): void {
  body.stream = stream;
  if (stream) body.stream_options = { include_usage: true };
}

export function responseFormat(format: OutputFormat): Json {
  return format === 'json'
    ? { type: 'json_object' }
    : { type: 'json_schema', json_schema: { name: 'output', schema: format } };
}

/** Images are carried as data URLs; the MIME type is sniffed from the base64 magic bytes. */
function dataUrl(b64: string): string {
  const mime = b64.startsWith('/9j/')
    ? 'image/jpeg'
    : b64.startsWith('R0lG')
      ? 'image/gif'
      : b64.startsWith('UklG')
        ? 'image/webp'
        : 'image/png';
  return `data:${mime};base64,${b64}`;
}

function content(text: string, images: string[] | undefined): unknown {
  if (images === undefined || images.length === 0) return text;
  const parts: unknown[] = [{ type: 'text', text }];
  for (const img of images) parts.push({ type: 'image_url', image_url: { url: dataUrl(img) } });
  return parts;
}

/** OpenAI tool results need `tool_call_id`; an Ollama-style message may only name the tool. */
function callIdFor(messages: ChatMessage[], upTo: number, toolName: string | undefined): string | undefined {
  if (toolName === undefined) return undefined;
  for (let i = upTo - 1; i >= 0; i--) {
    const calls = messages[i]?.toolCalls;
    const hit = calls?.find((c) => c.name === toolName);
    if (hit !== undefined) return hit.id;
  }
  return undefined;
}

function wireMessages(messages: ChatMessage[]): unknown[] {
  return messages.map((m, i) => {
    const out: Json = { role: m.role, content: content(m.content, m.images) };
    if (m.toolCalls !== undefined && m.toolCalls.length > 0) {
      out.tool_calls = m.toolCalls.map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.name, arguments: JSON.stringify(c.arguments) },
      }));
      if (m.content === '') out.content = null;
    }
    if (m.role === 'tool') {
      const callId = m.toolCallId ?? callIdFor(messages, i, m.toolName);
      if (callId !== undefined) out.tool_call_id = callId;
    }
    return out;
  });
}

function chatPayload(model: string, messages: unknown[], r: ChatRequest | GenerateRequest): string {
  const body: Json = { model, messages };
  streaming(body, r.stream);
  sampling(body, r.options);
  if (r.format !== undefined) body.response_format = responseFormat(r.format);
  if (typeof r.think === 'string') body.reasoning_effort = r.think;
  if (r.kind === 'chat' && r.tools !== undefined && r.tools.length > 0) {
    body.tools = wireTools(r.tools);
    if (r.toolChoice !== undefined) body.tool_choice = wireToolChoice(r.toolChoice);
  }
  if (r.logprobs !== undefined) {
    body.logprobs = true;
    if (r.logprobs > 0) body.top_logprobs = r.logprobs;
  }
  return JSON.stringify(body);
}

/** Internal tool choice → OpenAI's `tool_choice` (a string, or the named-function object). */
export function wireToolChoice(c: ToolChoice): unknown {
  return typeof c === 'string' ? c : { type: 'function', function: { name: c.name } };
}

export function chatBody(req: ChatRequest): string {
  return chatPayload(req.model, wireMessages(req.messages), req);
}

/**
 * A generate request goes to /completions only when it is a bare prompt. With a system prompt,
 * images, a format, think or logprobs it becomes a chat call (system + user message): /completions has no
 * system role or images, and response_format is only portable on chat.
 */
export function generateUsesChat(req: GenerateRequest): boolean {
  return (
    req.system !== undefined ||
    (req.images !== undefined && req.images.length > 0) ||
    req.format !== undefined ||
    req.think !== undefined ||
    // Chat's logprobs shape is the one every server shares; legacy /completions differs per server.
    req.logprobs !== undefined
  );
}

export function generateBody(req: GenerateRequest): string {
  if (generateUsesChat(req)) {
    const messages: unknown[] = [];
    if (req.system !== undefined) messages.push({ role: 'system', content: req.system });
    messages.push({ role: 'user', content: content(req.prompt, req.images) });
    return chatPayload(req.model, messages, req);
  }
  const body: Json = { model: req.model, prompt: req.prompt };
  streaming(body, req.stream);
  sampling(body, req.options);
  if (req.suffix !== undefined) body.suffix = req.suffix;
  return JSON.stringify(body);
}

export function embedBody(req: EmbedRequest): string {
  const input = req.tokens ?? req.input;
  const body: Json = { model: req.model, input, encoding_format: 'float' };
  if (req.dimensions !== undefined) body.dimensions = req.dimensions;
  return JSON.stringify(body);
}

export function finishReasonOf(raw: unknown, sawToolCalls: boolean): FinishReason {
  if (sawToolCalls || raw === 'tool_calls' || raw === 'function_call') return 'tool_calls';
  return raw === 'length' ? 'length' : 'stop';
}

export function usageOf(raw: unknown): { promptTokens: number; completionTokens: number } {
  const u = typeof raw === 'object' && raw !== null ? (raw as Json) : undefined;
  return { promptTokens: num(u?.prompt_tokens), completionTokens: num(u?.completion_tokens) };
}

/** Text (chat `content` or completion `text`) and reasoning of one message/delta, as a chunk. */
export function deltaOf(src: Json | undefined): Chunk | undefined {
  if (src === undefined) return undefined;
  const c = src.content ?? src.text;
  const text = typeof c === 'string' ? c : '';
  // vLLM and llama.cpp use `reasoning_content`; Ollama's /v1 uses `reasoning`.
  const r = src.reasoning_content ?? src.reasoning;
  const thinking = typeof r === 'string' ? r : '';
  if (text.length === 0 && thinking.length === 0) return undefined;
  return thinking.length > 0 ? { type: 'delta', text, thinking } : { type: 'delta', text };
}

/** One entry of OpenAI's `logprobs.content` (chat) → internal form. */
function tokenLogprob(raw: unknown): TokenLogprob | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const o = raw as Json;
  if (typeof o.token !== 'string' || typeof o.logprob !== 'number') return undefined;
  const out: TokenLogprob = { token: o.token, logprob: o.logprob };
  if (Array.isArray(o.bytes)) out.bytes = o.bytes as number[];
  if (Array.isArray(o.top_logprobs)) {
    out.top = [];
    for (const t of o.top_logprobs as unknown[]) {
      const alt = tokenLogprob(t);
      if (alt !== undefined)
        out.top.push(
          alt.bytes
            ? { token: alt.token, logprob: alt.logprob, bytes: alt.bytes }
            : { token: alt.token, logprob: alt.logprob },
        );
    }
  }
  return out;
}

/** The log probabilities of one choice (chat `logprobs.content[]`), or undefined when there are none. */
export function logprobsOf(choice: Json | undefined): TokenLogprob[] | undefined {
  const lp = choice?.logprobs;
  if (typeof lp !== 'object' || lp === null) return undefined;
  const o = lp as Json;
  if (Array.isArray(o.content)) {
    const out: TokenLogprob[] = [];
    for (const item of o.content as unknown[]) {
      const t = tokenLogprob(item);
      if (t !== undefined) out.push(t);
    }
    return out.length > 0 ? out : undefined;
  }
  return undefined;
}

/** llama.cpp's `timings` (`prompt_ms`, `predicted_ms`, in ms) → Ollama-style nanoseconds. */
export function timingsOf(raw: unknown): Timings | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const t = raw as Json;
  const out: Timings = {};
  if (typeof t.prompt_ms === 'number') out.promptEvalDurationNs = Math.round(t.prompt_ms * 1e6);
  if (typeof t.predicted_ms === 'number') out.evalDurationNs = Math.round(t.predicted_ms * 1e6);
  return out.promptEvalDurationNs === undefined && out.evalDurationNs === undefined ? undefined : out;
}
