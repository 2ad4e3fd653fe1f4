import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GatewayError, errors } from '../../errors/catalogue.js';
import { parseBody } from '../../errors/validation.js';
import { findModel } from '../../pipeline/models.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { refusal, type Json, type OllamaAdmin } from '../../upstreams/ollama/manage.js';
import { VERSION } from '../../version.js';
import { showBody } from './map-response.js';

/**
 * Ollama model management through the gateway (docs/protocols.md F.8). Pull, push and create go to
 * every Ollama upstream in turn, or to the one named by the `x-sutazai-upstream` header or the
 * `?upstream=` query (an upstream id as `GET /api/v1/status` lists it); copy and delete likewise,
 * succeeding where the model is. They are admin-only (`config.admin`, enforced
 * by the keys feature). ps merges the upstreams' real /api/ps; show asks the upstream that has the
 * model (synthesized for OpenAI-compatible upstreams); version is an Ollama upstream's own.
 */

export interface ModelAdminOptions {
  admin: OllamaAdmin;
  pipeline: Pipeline;
  /** Refresh the model catalog now (after a pull, copy, create or delete). */
  refreshModels: () => Promise<void>;
  /** Version reported when no Ollama upstream answers (OpenAI-compatible upstreams only). */
  fallbackVersion: string;
}

const ADMIN = { config: { admin: true } } as const;
const named = z.looseObject({
  model: z.string().nullish(),
  name: z.string().nullish(),
  stream: z.boolean().nullish(),
});
const copySchema = z.looseObject({ source: z.string().min(1), destination: z.string().min(1) });
const QUERY = z.object({ upstream: z.string().min(1).optional() }).loose();

/** Aborted when the client goes away before its answer is written. */
function clientSignal(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  return ac.signal;
}

function modelOf(b: z.output<typeof named>): string {
  const m = b.model || b.name;
  if (!m) throw errors.validation('model is required', 'model');
  return m;
}

/** The upstream a request names (header or query), checked; undefined = not named. */
function namedUpstream(req: FastifyRequest, admin: OllamaAdmin): string | undefined {
  const h = req.headers['x-sutazai-upstream'];
  const id = (typeof h === 'string' ? h : undefined) ?? QUERY.parse(req.query ?? {}).upstream;
  if (id === undefined) return undefined;
  if (!admin.ids.includes(id))
    throw errors.validation(
      `upstream '${id}' is not an Ollama upstream (known: ${admin.ids.join(', ') || 'none'})`,
      'upstream',
    );
  return id;
}

function allTargets(req: FastifyRequest, admin: OllamaAdmin): string[] {
  const one = namedUpstream(req, admin);
  if (one !== undefined) return [one];
  if (admin.ids.length === 0) throw errors.validation('no Ollama upstream is configured', 'upstream');
  return [...admin.ids];
}

export function registerModelAdmin(app: FastifyInstance, o: ModelAdminOptions): void {
  const { admin, pipeline } = o;

  /**
   * Copy / delete on every target: done where the model is, 404 where it is not. Fails only when
   * it failed everywhere (with the most telling refusal: anything but a 404 first).
   */
  async function everywhere(
    req: FastifyRequest,
    reply: FastifyReply,
    method: 'POST' | 'DELETE',
    path: string,
    body: Json,
  ) {
    const signal = clientSignal(reply);
    const replies = await Promise.all(
      allTargets(req, admin).map((id) => admin.call(id, method, path, body, signal)),
    );
    await o.refreshModels();
    if (replies.some((r) => r.status < 300)) return reply.code(200).send();
    const worst = replies.find((r) => r.status !== 404) ?? replies[0];
    throw worst ? refusal(worst.upstream, worst.status, worst.body) : errors.internal();
  }

  /** Pull / push / create: progress lines from each target in turn, one `success` at the end. */
  async function progress(
    req: FastifyRequest,
    reply: FastifyReply,
    path: string,
    body: Json,
    streamed: boolean,
  ) {
    const targets = allTargets(req, admin);
    const signal = clientSignal(reply);
    const tag = (line: Json, id: string): Json => (targets.length > 1 ? { ...line, upstream: id } : line);
    let last: Json = { status: 'success' };
    let started = false;
    const write = (line: Json): void => {
      if (!streamed) return;
      if (!started) {
        started = true;
        void reply.hijack();
        reply.raw.writeHead(200, {
          ...(reply.getHeaders() as Record<string, string>),
          'content-type': 'application/x-ndjson',
        });
      }
      reply.raw.write(`${JSON.stringify(line)}\n`);
    };
    try {
      for (const [n, id] of targets.entries()) {
        for await (const line of admin.progress(id, path, body, signal)) {
          if (typeof line.error === 'string') throw errors.upstreamError(id, line.error);
          if (line.status === 'success' && n < targets.length - 1) continue;
          last = tag(line, id);
          write(last);
        }
      }
    } catch (err) {
      if (!started) throw err;
      // Part-way: Ollama's own way to say it, one {"error"} line, then the end.
      reply.raw.end(
        `${JSON.stringify({ error: err instanceof GatewayError ? err.publicMessage : 'error' })}\n`,
      );
      return reply;
    } finally {
      await o.refreshModels();
    }
    if (!streamed) return last;
    reply.raw.end();
    return reply;
  }

  for (const op of ['pull', 'push', 'create'] as const) {
    app.post(`/api/${op}`, ADMIN, async (req, reply) => {
      const b = parseBody(named, req.body);
      modelOf(b);
      return progress(req, reply, `/api/${op}`, b, b.stream !== false);
    });
  }

  app.post('/api/copy', ADMIN, async (req, reply) => {
    const b = parseBody(copySchema, req.body);
    return everywhere(req, reply, 'POST', '/api/copy', b);
  });

  app.delete('/api/delete', ADMIN, async (req, reply) => {
    const model = modelOf(parseBody(named, req.body));
    return everywhere(req, reply, 'DELETE', '/api/delete', { model });
  });

  app.get('/api/ps', async (_req, reply) => {
    const settled = await Promise.allSettled(
      admin.ids.map((id) => admin.call(id, 'GET', '/api/ps', undefined, clientSignal(reply), 5000)),
    );
    const ok = settled.flatMap((s) => (s.status === 'fulfilled' && s.value.status === 200 ? [s.value] : []));
    if (admin.ids.length > 0 && ok.length === 0) {
      const first = settled[0];
      throw first?.status === 'rejected'
        ? (first.reason as Error)
        : errors.upstreamError(admin.ids[0] ?? '', '/api/ps failed');
    }
    const models = ok.flatMap((r) => (Array.isArray(r.body?.models) ? (r.body.models as Json[]) : []));
    // As Ollama sorts them: the longest time left first.
    const expiry = (m: Json): string => (typeof m.expires_at === 'string' ? m.expires_at : '');
    models.sort((x, y) => expiry(y).localeCompare(expiry(x)));
    return { models };
  });

  app.post('/api/show', async (req, reply) => {
    const b = parseBody(named, req.body);
    const name = modelOf(b);
    const found = findModel(await pipeline.listModels(), name);
    if (!found) throw new GatewayError('SUTAZAI_ERR_MODEL_NOT_FOUND', `model '${name}' not found`);
    if (!admin.ids.includes(found.upstream)) return showBody(found);
    const r = await admin.call(
      found.upstream,
      'POST',
      '/api/show',
      { ...(b as Json), model: found.name },
      clientSignal(reply),
    );
    if (r.status >= 300) throw refusal(r.upstream, r.status, r.body);
    return reply.send(r.body);
  });

  app.get('/api/version', async (req, reply) => {
    void reply.header('x-sutazai-version', VERSION);
    const signal = clientSignal(reply);
    for (const id of admin.ids) {
      try {
        const r = await admin.call(id, 'GET', '/api/version', undefined, signal, 2000);
        if (r.status === 200 && typeof r.body?.version === 'string') return { version: r.body.version };
      } catch {
        // next upstream
      }
    }
    return { version: o.fallbackVersion };
  });
}
