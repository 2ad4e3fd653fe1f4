import type { CancelSignal } from '../../pipeline/cancel.js';
import { errors } from '../../errors/catalogue.js';
import type {
  ChatRequest,
  Chunk,
  EmbedResult,
  FinishReason,
  GenerateRequest,
  ModelInfo,
} from '../../pipeline/types.js';
import { messageOf, upstreamMessage } from '../errors.js';
import { healthCheck } from '../health.js';
import { ChunkReader, wholeAnswer } from '../chunk-reader.js';
import { createUpstreamHttp } from '../pool.js';
import { asObject, num, parseObject, str } from '../json.js';
import { SseParser, type SseEvent } from '../sse.js';
import type { Json } from '../json.js';
import { toolArguments, toolCallId } from '../tool-calls.js';
import { displayUrl, type UpstreamConfig } from '../../config/upstreams.js';
import type { UpstreamAdapter } from '../types.js';
import { ToolCallAccumulator } from './tool-stream.js';
import {
  chatBody,
  deltaOf,
  embedBody,
  finishReasonOf,
  generateBody,
  generateUsesChat,
  logprobsOf,
  timingsOf,
  usageOf,
} from './wire.js';

/**
 * Adapter for OpenAI-compatible servers (vLLM, llama.cpp server, Ollama's /v1). `cfg.url` already
 * ends in /v1. Streams are SSE with `stream_options.include_usage`, parsed event by event; tool-call
 * argument fragments are accumulated and emitted as one `tool_calls` chunk per finished turn.
 */
export function createOpenAIAdapter(cfg: UpstreamConfig): UpstreamAdapter {
  const auth = cfg.apiKey === undefined ? undefined : { authorization: `Bearer ${cfg.apiKey}` };
  const http = createUpstreamHttp(cfg, auth);
  const id = cfg.id;

  function throwIfError(obj: Json): void {
    if (obj.error !== undefined && obj.error !== null) {
      throw errors.upstreamError(id, messageOf(obj.error) ?? 'error');
    }
  }

  function firstChoice(obj: Json): Json | undefined {
    const choices = obj.choices;
    if (!Array.isArray(choices)) return undefined;
    const c: unknown = choices[0];
    return typeof c === 'object' && c !== null ? (c as Json) : undefined;
  }

  /** The chunks of one /chat/completions or /completions call, streamed or whole. */
  function run(
    path: string,
    payload: string,
    model: string,
    stream: boolean,
    signal: CancelSignal,
  ): AsyncIterable<Chunk> {
    const start = () => http.call(signal, model);
    if (!stream) {
      return wholeAnswer(start, path, payload, id, (obj, out) => {
        throwIfError(obj);
        const choice = firstChoice(obj);
        if (choice === undefined) throw errors.upstreamBadResponse(id, 'response has no choices');
        const msg = (choice.message ?? choice) as Json;
        const delta = withLogprobs(deltaOf(msg), choice);
        if (delta !== undefined) out.push(delta);
        let calls = 0;
        if (Array.isArray(msg.tool_calls) && msg.tool_calls.length > 0) {
          const chunk = wholeToolCalls(msg.tool_calls as unknown[]);
          calls = chunk.calls.length;
          out.push(chunk);
        }
        out.push(doneChunk(finishReasonOf(choice.finish_reason, calls > 0), obj.usage, obj.timings));
      });
    }
    const tools = new ToolCallAccumulator(id);
    let finish: unknown = undefined;
    let usage: unknown = undefined;
    let timings: unknown = undefined;
    let sawDone = false;
    // [DONE] is remembered and the body read to its end before the final chunk is given, so the
    // connection returns to the pool intact.
    return new ChunkReader<SseEvent>(start, (call) => call.stream('POST', path, payload, new SseParser()), {
      item(ev, out) {
        if (sawDone) return;
        if (ev.data === '[DONE]') {
          sawDone = true;
          return;
        }
        if (ev.event === 'error') throw errors.upstreamError(id, upstreamMessage(ev.data) || 'error event');
        const obj = parseObject(ev.data, id);
        throwIfError(obj);
        if (obj.usage !== undefined && obj.usage !== null) usage = obj.usage;
        if (obj.timings !== undefined && obj.timings !== null) timings = obj.timings;
        const choice = firstChoice(obj);
        if (choice === undefined) return;
        const src = (choice.delta ?? choice) as Json;
        const delta = withLogprobs(deltaOf(src), choice);
        if (delta !== undefined) out.push(delta);
        if (Array.isArray(src.tool_calls)) tools.add(src.tool_calls as unknown[]);
        if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
          finish = choice.finish_reason;
          const chunk = tools.flush();
          if (chunk !== undefined) out.push(chunk);
        }
      },
      end(out) {
        if (!sawDone && finish === undefined) throw errors.upstreamBadResponse(id, 'stream ended early');
        const chunk = tools.flush();
        if (chunk !== undefined) out.push(chunk);
        out.push(doneChunk(finishReasonOf(finish, tools.count > 0), usage, timings));
      },
    });
  }

  /** The done chunk, with llama.cpp's `timings` when the server reports them (vLLM does not). */
  function doneChunk(finishReason: FinishReason, usage: unknown, timings: unknown): Chunk {
    const t = timingsOf(timings);
    return t === undefined
      ? { type: 'done', finishReason, usage: usageOf(usage) }
      : { type: 'done', finishReason, usage: usageOf(usage), timings: t };
  }

  /** Log probabilities ride on the delta of the choice they came with (a token may have no text). */
  function withLogprobs(delta: Chunk | undefined, choice: Json): Chunk | undefined {
    const lp = logprobsOf(choice);
    if (lp === undefined) return delta;
    return delta?.type === 'delta' ? { ...delta, logprobs: lp } : { type: 'delta', text: '', logprobs: lp };
  }

  function wholeToolCalls(raw: unknown[]): Extract<Chunk, { type: 'tool_calls' }> {
    return {
      type: 'tool_calls',
      calls: raw.map((item, n) => {
        const c = (item ?? {}) as Json;
        const fn = (c.function ?? {}) as Json;
        return { id: toolCallId(c.id, n), name: str(fn.name), arguments: toolArguments(fn.arguments, id) };
      }),
    };
  }

  return {
    id,
    kind: 'openai',
    config: cfg,
    baseUrl: displayUrl(cfg.url),
    chat: (req: ChatRequest, signal) =>
      run('/chat/completions', chatBody(req), req.model, req.stream, signal),
    generate: (req: GenerateRequest, signal) =>
      run(
        generateUsesChat(req) ? '/chat/completions' : '/completions',
        generateBody(req),
        req.model,
        req.stream,
        signal,
      ),

    async embed(req, signal): Promise<EmbedResult> {
      const obj = asObject(await http.json('POST', '/embeddings', embedBody(req), signal, req.model), id);
      throwIfError(obj);
      if (!Array.isArray(obj.data)) throw errors.upstreamBadResponse(id, 'embeddings response has no data');
      const embeddings: number[][] = [];
      (obj.data as unknown[]).forEach((item, n) => {
        const d = (item ?? {}) as Json;
        if (!Array.isArray(d.embedding))
          throw errors.upstreamBadResponse(id, 'embedding is not a float array');
        embeddings[typeof d.index === 'number' ? d.index : n] = d.embedding as number[];
      });
      const usage = (obj.usage ?? {}) as Json;
      return { model: str(obj.model) || req.model, embeddings, promptTokens: num(usage.prompt_tokens) };
    },

    async listModels(signal): Promise<ModelInfo[]> {
      const obj = asObject(await http.json('GET', '/models', undefined, signal), id);
      if (!Array.isArray(obj.data)) throw errors.upstreamBadResponse(id, 'models response has no data');
      const out: ModelInfo[] = [];
      for (const item of obj.data as unknown[]) {
        const m = (item ?? {}) as Json;
        if (typeof m.id !== 'string' || m.id.length === 0) continue;
        const info: ModelInfo = { name: m.id, upstream: id };
        if (typeof m.created === 'number') info.modifiedAt = new Date(m.created * 1000).toISOString();
        if (typeof m.owned_by === 'string') info.details = { owned_by: m.owned_by };
        out.push(info);
      }
      return out;
    },

    // OpenAI-compatible servers have no version endpoint; listing models is the cheapest probe.
    health: (signal) =>
      healthCheck(async () => {
        await http.json('GET', '/models', undefined, signal);
        return undefined;
      }),

    inFlight: () => http.inFlight(),
    poolStats: () => http.poolStats(),
    close: () => http.close(),
  };
}
