import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.js';
import { errors } from '../../errors/catalogue.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { collect } from '../../pipeline/stream.js';
import type { Chunk, GenerationRequest } from '../../pipeline/types.js';
import { requestContext } from '../context.js';
import { findModel } from '../../pipeline/models.js';
import { ollamaErrorHandler } from './errors.js';
import {
  loadOnlyReason,
  mapChatRequest,
  mapEmbeddingsRequest,
  mapEmbedRequest,
  mapGenerateRequest,
} from './map-request.js';
import {
  chatBody,
  chatDoneLine,
  chatLine,
  createdAtNow,
  embedBody,
  embeddingsBody,
  generateBody,
  generateDoneLine,
  generateLine,
  loadBody,
  tagsBody,
  type LineMeta,
  type Measured,
} from './map-response.js';
import { writeGeneration } from '../stream/writer.js';
import { ollamaStream, type LineSource } from './stream.js';
import { boundedJsonParser } from '../json-body.js';
import type { OllamaAdmin } from '../../upstreams/ollama/manage.js';
import { registerModelAdmin } from './model-admin.js';

export interface OllamaRoutesOptions {
  pipeline: Pipeline;
  config: Config;
  /** Model management on the Ollama upstreams (pull, delete, ps, show, version…). */
  admin: OllamaAdmin;
  /** Refresh the model catalog now. */
  refreshModels: () => Promise<void>;
}

/**
 * The Ollama version we report. Clients gate features on it (structured outputs need ≥ 0.5, tool
 * streaming ≥ 0.8), so it names the Ollama API level this surface implements, not our own version.
 */
export const OLLAMA_COMPAT_VERSION = '0.12.0';

type Done = Extract<Chunk, { type: 'done' }>;
const EMPTY_DONE: Done = {
  type: 'done',
  finishReason: 'stop',
  usage: { promptTokens: 0, completionTokens: 0 },
};

/**
 * Clock for the metric fields Ollama clients expect when the upstream reported no timings. A
 * streamed answer splits at its first chunk (prompt evaluation before, generation after). A whole
 * answer arrives at once, so no split can be seen: the whole call counts as generation time and
 * prompt_eval_duration is 0 (the rate a client derives is then a lower bound, never inflated).
 */
function stopwatch(): { firstChunk: () => void; measured: () => Measured; whole: () => Measured } {
  const start = process.hrtime.bigint();
  let first = start;
  return {
    firstChunk: () => {
      first = process.hrtime.bigint();
    },
    measured: () => {
      const now = process.hrtime.bigint();
      return {
        totalNs: Number(now - start),
        promptEvalNs: Number(first - start),
        evalNs: Number(now - first),
      };
    },
    whole: () => {
      const totalNs = Number(process.hrtime.bigint() - start);
      return { totalNs, promptEvalNs: 0, evalNs: totalNs };
    },
  };
}

function lineSource(kind: GenerationRequest['kind'], model: string, measured: () => Measured): LineSource {
  const lm = (): LineMeta => ({ model, createdAt: createdAtNow() });
  let toolIndex = 0;
  let done = false;
  const doneLine = (d: Done) =>
    kind === 'chat' ? chatDoneLine(lm(), d, measured()) : generateDoneLine(lm(), d, measured());
  return {
    map(chunk) {
      if (done) return [];
      if (chunk.type === 'done') {
        done = true;
        return [doneLine(chunk)];
      }
      const line = kind === 'chat' ? chatLine(lm(), chunk, toolIndex) : generateLine(lm(), chunk);
      if (chunk.type === 'tool_calls') toolIndex += chunk.calls.length;
      return line ? [line] : [];
    },
    end: () => (done ? [] : [doneLine(EMPTY_DONE)]),
  };
}

/**
 * The Ollama-native surface (`/api/*`). Encapsulated: its error handler answers `{"error":"..."}`,
 * and any request content type is read as JSON, as Ollama does (`curl -d` sends form encoding).
 */
export const ollamaRoutes: FastifyPluginAsync<OllamaRoutesOptions> = async (
  app,
  { pipeline, config, admin, refreshModels },
) => {
  app.setErrorHandler(ollamaErrorHandler);
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', { parseAs: 'string' }, boundedJsonParser(app, config.maxJsonDepth, 'ignore'));

  async function generation(req: FastifyRequest, reply: FastifyReply, request: GenerationRequest) {
    const clock = stopwatch();
    const lm = (): LineMeta => ({ model: request.model, createdAt: createdAtNow() });
    const load = loadOnlyReason(request);
    if (load) {
      // Nothing to generate: confirm the model exists, as Ollama's load does, without upstream work.
      if (!findModel(await pipeline.listModels(), request.model)) throw errors.modelNotFound(request.model);
      return loadBody(lm(), request.kind, load);
    }
    const ctx = requestContext(req, reply, 'ollama');
    const result = await pipeline.generate(request, ctx);
    clock.firstChunk();
    if (!request.stream) {
      const c = await collect(result.chunks);
      void reply.header('x-sutazai-cache', result.cache);
      return request.kind === 'chat'
        ? chatBody(lm(), c, clock.whole())
        : generateBody(lm(), c, clock.whole());
    }
    const lines = lineSource(request.kind, request.model, clock.measured);
    await writeGeneration(req, reply, ctx, result, ollamaStream(lines));
    return reply;
  }

  // Generation bodies carry base64 images: their own, larger limit (SUTAZAI_LLM_BODY_LIMIT).
  const llm = { bodyLimit: config.llmBodyLimit };
  app.post('/api/chat', llm, async (req, reply) => generation(req, reply, mapChatRequest(req.body)));
  app.post('/api/generate', llm, async (req, reply) => generation(req, reply, mapGenerateRequest(req.body)));

  app.post('/api/embed', async (req, reply) => {
    const clock = stopwatch();
    const request = mapEmbedRequest(req.body);
    if (request.input.length === 0) return { model: request.model, embeddings: [] };
    const outcome = await pipeline.embed(request, requestContext(req, reply, 'ollama'));
    void reply.header('x-sutazai-cache', outcome.cache);
    return embedBody(request.model, outcome.result, clock.measured().totalNs);
  });

  app.post('/api/embeddings', async (req, reply) => {
    const request = mapEmbeddingsRequest(req.body);
    if (request.input.length === 0) return { embedding: [] };
    const outcome = await pipeline.embed(request, requestContext(req, reply, 'ollama'));
    void reply.header('x-sutazai-cache', outcome.cache);
    return embeddingsBody(outcome.result);
  });

  app.get('/api/tags', async () => tagsBody(await pipeline.listModels()));

  // [model management] pull, push, create, copy, delete, ps, show, version
  registerModelAdmin(app, { admin, pipeline, refreshModels, fallbackVersion: OLLAMA_COMPAT_VERSION });
};
