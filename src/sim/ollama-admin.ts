import { createHash } from 'node:crypto';
import type { SimContext } from './context.js';
import type { Exchange } from './engine.js';
import { optBool, optString, sendJson, SimHttpError } from './http.js';
import type { JsonObject } from './http.js';
import { withTag } from './models.js';

/**
 * Ollama's model management (server/routes.go PullHandler, PushHandler, CreateHandler,
 * CopyHandler, DeleteHandler; progress statuses from server/images.go and server/download.go):
 * pull streams `ProgressResponse` lines `{status, digest?, total?, completed?}` as NDJSON (or
 * answers the last one with `stream: false`) and adds the model; delete and copy answer 200 with
 * an empty body, 404 `{"error":"model 'x' not found"}` when there is no such model.
 */

const MODEL_NAME = /^[\w][\w.-]*(\/[\w][\w.-]*)*(:[\w][\w.-]*)?$/;

function modelName(body: JsonObject, field = 'model'): string {
  const name = optString(body, field) || optString(body, 'name') || '';
  if (name === '') throw new SimHttpError(400, `${field} is required`, field);
  if (!MODEL_NAME.test(name)) throw new SimHttpError(400, 'invalid model name', field);
  return name;
}

/** Progress lines as a pull shows them: manifest, two layers in steps, verify, write, success. */
function pullProgress(name: string): JsonObject[] {
  const lines: JsonObject[] = [{ status: 'pulling manifest' }];
  for (const [layer, total] of [
    ['model', 2_019_377_376],
    ['license', 7_711],
  ] as const) {
    const digest = `sha256:${createHash('sha256').update(`${name}:${layer}`).digest('hex')}`;
    const status = `pulling ${digest.slice(7, 19)}`;
    for (const f of [0, 0.25, 0.5, 0.75, 1])
      lines.push({ status, digest, total, completed: Math.round(total * f) });
  }
  lines.push({ status: 'verifying sha256 digest' }, { status: 'writing manifest' }, { status: 'success' });
  return lines;
}

/** Write progress lines (NDJSON, one write each) or only the last (`stream: false`). */
function sendProgress(ex: Exchange, body: JsonObject, lines: JsonObject[]): void {
  if (optBool(body, 'stream') === false) {
    sendJson(ex.res, 200, lines[lines.length - 1] ?? { status: 'success' });
    return;
  }
  ex.res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  for (const l of lines) ex.res.write(`${JSON.stringify(l)}\n`);
  ex.res.end();
}

export function ollamaPull(ctx: SimContext, ex: Exchange, body: JsonObject): void {
  const name = modelName(body);
  const lines = pullProgress(withTag(name));
  // The model exists once its manifest is written, as with Ollama.
  ctx.models.add(name, /embed/i.test(name) ? 'embed' : 'chat');
  sendProgress(ex, body, lines);
}

export function ollamaPush(ctx: SimContext, ex: Exchange, body: JsonObject): void {
  const name = modelName(body);
  if (ctx.models.find(name) === undefined) throw new SimHttpError(404, `model '${name}' not found`, 'model');
  sendProgress(ex, body, [
    { status: 'retrieving manifest' },
    { status: 'pushing manifest' },
    { status: 'success' },
  ]);
}

export function ollamaCreate(ctx: SimContext, ex: Exchange, body: JsonObject): void {
  const name = modelName(body);
  const from = optString(body, 'from');
  const base = from === undefined ? undefined : ctx.models.find(from);
  if (from !== undefined && base === undefined)
    throw new SimHttpError(404, `model '${from}' not found`, 'from');
  ctx.models.add(name, base?.kind ?? 'chat');
  sendProgress(ex, body, [
    { status: 'using existing layers' },
    { status: 'writing manifest' },
    { status: 'success' },
  ]);
}

export function ollamaCopy(ctx: SimContext, ex: Exchange, body: JsonObject): void {
  const source = optString(body, 'source') ?? '';
  const destination = optString(body, 'destination') ?? '';
  if (!MODEL_NAME.test(source)) throw new SimHttpError(400, `source "${source}" is invalid`, 'source');
  if (!MODEL_NAME.test(destination))
    throw new SimHttpError(400, `destination "${destination}" is invalid`, 'destination');
  const src = ctx.models.find(source);
  if (src === undefined) throw new SimHttpError(404, `model "${source}" not found`, 'source');
  ctx.models.add(destination, src.kind);
  ex.res.writeHead(200, { 'content-length': '0' });
  ex.res.end();
}

export function ollamaDelete(ctx: SimContext, ex: Exchange, body: JsonObject): void {
  const name = modelName(body);
  if (!ctx.models.remove(name)) throw new SimHttpError(404, `model '${name}' not found`, 'model');
  ex.res.writeHead(200, { 'content-length': '0' });
  ex.res.end();
}
