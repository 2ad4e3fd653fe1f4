import type { CancelSignal } from '../../pipeline/cancel.js';
import { errors } from '../../errors/catalogue.js';
import type { ChatRequest, Chunk, EmbedResult, GenerateRequest, ModelInfo } from '../../pipeline/types.js';
import { messageOf } from '../errors.js';
import { ChunkReader, wholeAnswer } from '../chunk-reader.js';
import { createUpstreamHttp } from '../pool.js';
import { asObject, num, str } from '../json.js';
import { NdjsonParser } from '../ndjson.js';
import type { Json } from '../json.js';
import { healthCheck } from '../health.js';
import { displayUrl, type UpstreamConfig } from '../../config/upstreams.js';
import type { LoadedModel, UpstreamAdapter } from '../types.js';
import {
  chatBody,
  deltaOf,
  doneOf,
  embedBody,
  generateBody,
  preloadBody,
  psModels,
  toolCallsOf,
} from './wire.js';
import type { OllamaReadState } from './wire.js';
import { forcedCall, forcedTool, type ForcedTool } from './forced-tool.js';

/**
 * Adapter for Ollama's native API: /api/chat, /api/generate, /api/embed, /api/tags, /api/version,
 * /api/ps (loaded models) and model preloading.
 * Streams are NDJSON, parsed line by line as they arrive; a `{"error":…}` line ends the stream
 * with SUTAZAI_ERR_UPSTREAM_ERROR.
 */
export function createOllamaAdapter(cfg: UpstreamConfig): UpstreamAdapter {
  const auth = cfg.apiKey === undefined ? undefined : { authorization: `Bearer ${cfg.apiKey}` };
  const http = createUpstreamHttp(cfg, auth);
  const id = cfg.id;

  /** The chunks of one /api/chat or /api/generate call, streamed or whole. */
  function run(
    kind: 'chat' | 'generate',
    payload: string,
    model: string,
    stream: boolean,
    signal: CancelSignal,
    forced?: ForcedTool,
  ): AsyncIterable<Chunk> {
    const path = kind === 'chat' ? '/api/chat' : '/api/generate';
    const st: OllamaReadState = { upstream: id, toolCalls: 0 };
    const start = () => http.call(signal, model);
    if (forced !== undefined) return forcedRun(start, path, payload, forced, st);
    if (!stream) {
      return wholeAnswer(start, path, payload, id, (obj, out) => {
        throwIfError(obj);
        const delta = deltaOf(obj, kind);
        if (delta !== undefined) out.push(delta);
        const tools = toolCallsOf(obj, kind, st);
        if (tools !== undefined) out.push(tools);
        out.push(doneOf(obj, st));
      });
    }
    // The final object's `done` chunk is held until the body has ended, so the connection goes
    // back to the pool intact even if the consumer stops right after it.
    let final: Chunk | undefined;
    return new ChunkReader<Json>(start, (call) => call.stream('POST', path, payload, new NdjsonParser(id)), {
      item(obj, out) {
        if (final !== undefined) return;
        throwIfError(obj);
        const delta = deltaOf(obj, kind);
        if (delta !== undefined) out.push(delta);
        const tools = toolCallsOf(obj, kind, st);
        if (tools !== undefined) out.push(tools);
        if (obj.done === true) final = doneOf(obj, st);
      },
      end(out) {
        if (final === undefined) throw errors.upstreamBadResponse(id, 'stream ended without a done object');
        out.push(final);
      },
    });
  }

  /**
   * A forced tool call (see forced-tool.ts) is asked for whole (the payload says stream: false):
   * its JSON answer is one tool call, which a stream would only get at the end anyway.
   */
  function forcedRun(
    start: () => ReturnType<typeof http.call>,
    path: string,
    payload: string,
    forced: ForcedTool,
    st: OllamaReadState,
  ): AsyncIterable<Chunk> {
    return wholeAnswer(start, path, payload, id, (obj, out) => {
      throwIfError(obj);
      const delta = deltaOf(obj, 'chat');
      const call = forcedCall(delta?.type === 'delta' ? delta.text : '', forced, id);
      st.toolCalls = call.calls.length;
      out.push(call);
      const done = doneOf(obj, st);
      out.push(done.type === 'done' ? { ...done, finishReason: 'tool_calls' } : done);
    });
  }

  function throwIfError(obj: Json): void {
    if (obj.error !== undefined && obj.error !== null) {
      throw errors.upstreamError(id, messageOf(obj.error) ?? 'error');
    }
  }

  return {
    id,
    kind: 'ollama',
    config: cfg,
    baseUrl: displayUrl(cfg.url),
    chat: (req: ChatRequest, signal) => {
      const forced = forcedTool(req);
      if (forced === undefined) return run('chat', chatBody(req), req.model, req.stream, signal);
      return run('chat', chatBody({ ...req, stream: false }, forced), req.model, false, signal, forced);
    },
    generate: (req: GenerateRequest, signal) =>
      run('generate', generateBody(req), req.model, req.stream, signal),

    async embed(req, signal): Promise<EmbedResult> {
      const obj = asObject(await http.json('POST', '/api/embed', embedBody(req), signal, req.model), id);
      if (!Array.isArray(obj.embeddings))
        throw errors.upstreamBadResponse(id, 'embed response has no embeddings');
      return {
        model: str(obj.model) || req.model,
        embeddings: obj.embeddings as number[][],
        promptTokens: num(obj.prompt_eval_count),
      };
    },

    async listModels(signal): Promise<ModelInfo[]> {
      const obj = asObject(await http.json('GET', '/api/tags', undefined, signal), id);
      if (!Array.isArray(obj.models)) throw errors.upstreamBadResponse(id, 'tags response has no models');
      const out: ModelInfo[] = [];
      for (const item of obj.models as unknown[]) {
        const m = (item ?? {}) as Json;
        const name = str(m.name) || str(m.model);
        if (name.length === 0) continue;
        const info: ModelInfo = { name, upstream: id };
        if (typeof m.modified_at === 'string') info.modifiedAt = m.modified_at;
        if (typeof m.size === 'number') info.size = m.size;
        if (typeof m.digest === 'string') info.digest = m.digest;
        if (typeof m.details === 'object' && m.details !== null) info.details = m.details as Json;
        if (Array.isArray(m.capabilities)) info.capabilities = (m.capabilities as unknown[]).map(String);
        out.push(info);
      }
      return out;
    },

    health: (signal) =>
      healthCheck(async () => {
        const obj = asObject(await http.json('GET', '/api/version', undefined, signal), id);
        return typeof obj.version === 'string' ? obj.version : undefined;
      }),

    async loadedModels(signal): Promise<LoadedModel[]> {
      return psModels(asObject(await http.json('GET', '/api/ps', undefined, signal), id), id);
    },

    async preload(model, signal): Promise<void> {
      // An empty prompt only loads the model; keep_alive -1 keeps it resident (docs/protocols.md).
      await http.json('POST', '/api/generate', preloadBody(model), signal, model);
    },

    inFlight: () => http.inFlight(),
    poolStats: () => http.poolStats(),
    close: () => http.close(),
  };
}
