import type { SimContext } from './context.js';
import { embedVector, toFloatArray, DEFAULT_DIMENSIONS } from './embed.js';
import { oneShotRenderer, runGeneration } from './engine.js';
import type { Exchange, Piece, Renderer, Timing } from './engine.js';
import {
  optArray,
  optBool,
  optInt,
  optNumber,
  optObject,
  optStop,
  optString,
  requireModel,
  sendJson,
  SimHttpError,
} from './http.js';
import type { JsonObject } from './http.js';
import type { SimModel } from './models.js';
import { contextIds, countWords, planText, planToolCall, TOOL_TRIGGER } from './text.js';
import type { FinishReason } from './text.js';
import { simLogprob, wantedLogprobs, type SimLogprob } from './logprobs.js';
import { ollamaSalt } from './sampling.js';
import { imagesKey } from './images.js';

/** Ollama native API (`/api/*`), written from docs/protocols.md section A. */

export const OLLAMA_VERSION = '0.12.6';

export function sendOllamaError(ex: Exchange, err: SimHttpError): void {
  sendJson(
    ex.res,
    err.status,
    { error: err.message },
    err.status === 503 ? { 'retry-after': '1' } : undefined,
  );
}

function findModel(ctx: SimContext, name: string, kind?: SimModel['kind']): SimModel {
  const m = ctx.models.find(name);
  if (m === undefined)
    throw new SimHttpError(404, `model "${name}" not found, try pulling it first`, 'model');
  if (kind === 'chat' && m.kind !== 'chat')
    throw new SimHttpError(400, `"${name}" does not support chat`, 'model');
  return m;
}

function parseFormat(body: JsonObject): boolean | JsonObject {
  const f = body.format;
  if (f === undefined || f === null || f === '') return false;
  if (f === 'json') return true;
  if (typeof f === 'object' && !Array.isArray(f)) return f as JsonObject;
  throw new SimHttpError(400, `invalid format: expected "json" or a JSON schema object`, 'format');
}

interface GenOptions {
  limit: number | undefined;
  seed: number | undefined;
  stop: string[];
}

function parseOptions(body: JsonObject): GenOptions {
  const o = optObject(body, 'options') ?? {};
  optNumber(o, 'temperature', 'options.temperature');
  return {
    limit: optInt(o, 'num_predict', 'options.num_predict'),
    seed: optInt(o, 'seed', 'options.seed'),
    stop: optStop(o, 'stop', 'options.stop'),
  };
}

interface OllamaWork {
  kind: 'chat' | 'generate';
  model: string;
  stream: boolean;
  promptTokens: number;
  finishReason: FinishReason;
  /** generate: prompt words for the `context` array. */
  prompt?: string;
  /** Alternatives per token when the request asked for logprobs (Ollama ≥ 0.12.11). */
  logprobs?: number | undefined;
}

function ollamaRenderer(ex: Exchange, w: OllamaWork): Renderer {
  const { res } = ex;
  let started = false;
  let count = 0;
  let text = '';
  const calls: Piece[] = [];
  const lps: SimLogprob[] = [];
  const head = (): void => {
    if (started) return;
    started = true;
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  };
  const toolJson = (p: Piece): unknown =>
    typeof p === 'string'
      ? undefined
      : { id: p.id, function: { index: 0, name: p.name, arguments: p.arguments } };
  const final = (t: Timing, content: string): JsonObject => {
    const base: JsonObject = { model: w.model, created_at: new Date().toISOString() };
    if (w.kind === 'chat') {
      const message: JsonObject = { role: 'assistant', content };
      if (!w.stream && calls.length > 0) message.tool_calls = calls.map(toolJson);
      base.message = message;
    } else base.response = content;
    base.done = true;
    base.done_reason = w.finishReason;
    if (!w.stream && w.logprobs !== undefined) base.logprobs = lps;
    if (w.kind === 'generate') base.context = contextIds(`${w.prompt ?? ''} ${text}`);
    base.total_duration = t.totalNs;
    base.load_duration = t.loadNs;
    base.prompt_eval_count = w.promptTokens;
    base.prompt_eval_duration = t.promptEvalNs;
    base.eval_count = count;
    base.eval_duration = t.evalNs;
    return base;
  };
  return {
    piece(p) {
      count++;
      let lp: SimLogprob | undefined;
      if (typeof p === 'string') {
        text += p;
        if (w.logprobs !== undefined) lps.push((lp = simLogprob(p, count - 1, w.logprobs)));
      } else calls.push(p);
      if (!w.stream) return;
      head();
      const created_at = new Date().toISOString();
      let line: JsonObject;
      if (w.kind === 'generate') line = { model: w.model, created_at, response: p, done: false };
      else if (typeof p === 'string') {
        line = { model: w.model, created_at, message: { role: 'assistant', content: p }, done: false };
      } else {
        const message = { role: 'assistant', content: '', tool_calls: [toolJson(p)] };
        line = { model: w.model, created_at, message, done: false };
      }
      if (lp !== undefined) line.logprobs = [lp];
      res.write(JSON.stringify(line) + '\n');
    },
    finish(t) {
      if (!w.stream) {
        sendJson(res, 200, final(t, text));
        return;
      }
      head();
      res.end(JSON.stringify(final(t, '')) + '\n');
    },
    fail: (err) => sendOllamaError(ex, err),
    midStreamError(message) {
      if (!started) sendOllamaError(ex, new SimHttpError(500, message));
      else res.end(JSON.stringify({ error: message }) + '\n');
    },
  };
}

function sendLoaded(ex: Exchange, kind: 'chat' | 'generate', model: string): void {
  const base: JsonObject = { model, created_at: new Date().toISOString() };
  if (kind === 'chat') base.message = { role: 'assistant', content: '' };
  else base.response = '';
  sendJson(ex.res, 200, { ...base, done: true, done_reason: 'load' });
}

export function ollamaChat(ctx: SimContext, ex: Exchange, body: JsonObject): void {
  const model = requireModel(body);
  const messages = optArray(body, 'messages') ?? [];
  const stream = optBool(body, 'stream') ?? true;
  const opts = parseOptions(body);
  const format = parseFormat(body);
  const tools = optArray(body, 'tools');
  let key = '';
  let promptTokens = 0;
  let last: { role: string; content: string } | undefined;
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      throw new SimHttpError(
        400,
        `invalid type for field "messages[${i}]": expected object`,
        `messages[${i}]`,
      );
    }
    const role = optString(m as JsonObject, 'role', `messages[${i}].role`) ?? '';
    const content = optString(m as JsonObject, 'content', `messages[${i}].content`) ?? '';
    promptTokens += countWords(content);
    key += `${role}\u0001${content}${imagesKey((m as JsonObject).images, `messages[${i}].images`)}\u0002`;
    last = { role, content };
  });
  const info = findModel(ctx, model, 'chat');
  ctx.residency.touch(info.name, body.keep_alive);
  if (messages.length === 0) {
    sendLoaded(ex, 'chat', model);
    return;
  }
  key = `${ctx.opts.seed}\u0000${info.name}\u0000${key}\u0000${opts.seed ?? ''}\u0000${JSON.stringify(format)}${ollamaSalt(ctx, body)}`;
  let pieces: Piece[];
  let finishReason: FinishReason;
  const call =
    tools !== undefined && tools.length > 0 && last?.role === 'user' && TOOL_TRIGGER.test(last.content)
      ? planToolCall(tools[0], key)
      : undefined;
  if (call !== undefined) {
    pieces = [call];
    finishReason = 'stop';
  } else {
    const plan = planText({
      key,
      limit: opts.limit,
      defaultTokens: ctx.opts.defaultTokens,
      stop: opts.stop,
      json: format,
    });
    pieces = plan.pieces;
    finishReason = plan.finishReason;
  }
  const r = ollamaRenderer(ex, {
    kind: 'chat',
    model,
    stream,
    promptTokens,
    finishReason,
    logprobs: wantedLogprobs(body.logprobs, body.top_logprobs),
  });
  runGeneration(ctx, ex, r, pieces);
}

export function ollamaGenerate(ctx: SimContext, ex: Exchange, body: JsonObject): void {
  const model = requireModel(body);
  const prompt = optString(body, 'prompt') ?? '';
  const system = optString(body, 'system') ?? '';
  const suffix = optString(body, 'suffix') ?? '';
  const stream = optBool(body, 'stream') ?? true;
  optBool(body, 'raw');
  optArray(body, 'context');
  const opts = parseOptions(body);
  const format = parseFormat(body);
  const info = findModel(ctx, model);
  if (info.kind !== 'chat') throw new SimHttpError(400, `"${model}" does not support generate`, 'model');
  ctx.residency.touch(info.name, body.keep_alive);
  if (prompt === '' && system === '') {
    sendLoaded(ex, 'generate', model);
    return;
  }
  const key = `${ctx.opts.seed}\u0000${info.name}\u0000${system}\u0001${prompt}${imagesKey(body.images, 'images')}\u0001${suffix}\u0000${opts.seed ?? ''}\u0000${JSON.stringify(format)}${ollamaSalt(ctx, body)}`;
  const plan = planText({
    key,
    limit: opts.limit,
    defaultTokens: ctx.opts.defaultTokens,
    stop: opts.stop,
    json: format,
  });
  const promptTokens = countWords(system) + countWords(prompt);
  const r = ollamaRenderer(ex, {
    kind: 'generate',
    model,
    stream,
    promptTokens,
    finishReason: plan.finishReason,
    prompt,
    logprobs: wantedLogprobs(body.logprobs, body.top_logprobs),
  });
  runGeneration(ctx, ex, r, plan.pieces);
}

export function ollamaEmbed(ctx: SimContext, ex: Exchange, body: JsonObject): void {
  const model = requireModel(body);
  const input = body.input;
  let inputs: string[];
  if (input === undefined || input === null) inputs = [];
  else if (typeof input === 'string') inputs = [input];
  else if (Array.isArray(input) && input.every((s) => typeof s === 'string')) inputs = input;
  else throw new SimHttpError(400, 'invalid input type', 'input');
  const dims = optInt(body, 'dimensions') ?? DEFAULT_DIMENSIONS;
  if (dims <= 0) throw new SimHttpError(400, 'dimensions must be a positive integer', 'dimensions');
  optBool(body, 'truncate');
  const info = findModel(ctx, model);
  const promptTokens = inputs.reduce((n, s) => n + countWords(s), 0);
  const r = oneShotRenderer(
    ex,
    (t) => ({
      model,
      embeddings: inputs.map((s) => toFloatArray(embedVector(info.name, s, dims))),
      total_duration: t.totalNs,
      load_duration: t.loadNs,
      prompt_eval_count: promptTokens,
    }),
    sendOllamaError,
  );
  runGeneration(ctx, ex, r, []);
}

export function ollamaEmbeddings(ctx: SimContext, ex: Exchange, body: JsonObject): void {
  const model = requireModel(body);
  const prompt = optString(body, 'prompt') ?? '';
  const info = findModel(ctx, model);
  const r = oneShotRenderer(
    ex,
    () => ({
      embedding: prompt === '' ? [] : toFloatArray(embedVector(info.name, prompt, DEFAULT_DIMENSIONS)),
    }),
    sendOllamaError,
  );
  runGeneration(ctx, ex, r, []);
}
