import type { SimContext } from './context.js';
import { DEFAULT_DIMENSIONS, embedVector, toBase64, toFloatArray } from './embed.js';
import { runGeneration } from './engine.js';
import type { Exchange } from './engine.js';
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
import { oneShotRenderer } from './engine.js';
import { openaiRenderer, sendOpenAIError } from './openai-render.js';
import type { Sampling } from './openai-render.js';
import { countWords, planText, planToolCall, TOOL_TRIGGER } from './text.js';
import { wantedLogprobs } from './logprobs.js';
import { openaiSalt } from './sampling.js';
import { imagePartKey } from './images.js';
import { forcedToolOf } from './tool-choice.js';

/** OpenAI-compatible API (`/v1/*`), written from docs/protocols.md sections B and C. */

function findModel(ctx: SimContext, name: string, chat: boolean): SimModel {
  const m = ctx.models.find(name);
  if (m === undefined) {
    throw new SimHttpError(
      404,
      `model "${name}" not found, try pulling it first`,
      'model',
      'model_not_found',
    );
  }
  if (chat && m.kind !== 'chat') throw new SimHttpError(400, `"${name}" does not support chat`, 'model');
  return m;
}

function parseSampling(body: JsonObject): Sampling {
  const mct = optInt(body, 'max_completion_tokens');
  const mt = optInt(body, 'max_tokens');
  const limit = mct ?? mt;
  if (limit !== undefined && limit < 1) {
    throw new SimHttpError(
      400,
      'max_tokens must be at least 1',
      mct !== undefined ? 'max_completion_tokens' : 'max_tokens',
    );
  }
  const temperature = optNumber(body, 'temperature');
  if (temperature !== undefined && (temperature < 0 || temperature > 2)) {
    throw new SimHttpError(400, 'temperature must be between 0 and 2', 'temperature');
  }
  const streamOptions = optObject(body, 'stream_options');
  return {
    limit,
    seed: optInt(body, 'seed'),
    stop: optStop(body, 'stop'),
    stream: optBool(body, 'stream') ?? false,
    includeUsage:
      (streamOptions && optBool(streamOptions, 'include_usage', 'stream_options.include_usage')) ?? false,
  };
}

function parseResponseFormat(body: JsonObject): boolean | JsonObject {
  const rf = optObject(body, 'response_format');
  if (rf === undefined) return false;
  const type = optString(rf, 'type', 'response_format.type');
  if (type === 'json_object') return true;
  if (type === 'json_schema') {
    const js = optObject(rf, 'json_schema', 'response_format.json_schema');
    return (js && optObject(js, 'schema', 'response_format.json_schema.schema')) ?? true;
  }
  if (type === undefined || type === 'text') return false;
  throw new SimHttpError(400, `invalid response_format type "${type}"`, 'response_format.type');
}

/** Text of a message `content` (a string or an array of parts; text parts count) and its images' key. */
function contentText(v: unknown, field: string): { text: string; images: string } {
  if (v === undefined || v === null) return { text: '', images: '' };
  if (typeof v === 'string') return { text: v, images: '' };
  if (Array.isArray(v)) {
    let out = '';
    let images = '';
    for (const p of v) {
      if (typeof p !== 'object' || p === null)
        throw new SimHttpError(400, `invalid content part in ${field}`, field);
      const { type, text } = p as JsonObject;
      if (type === 'text' && typeof text === 'string') out += (out === '' ? '' : ' ') + text;
      else if (type === 'image_url') images += imagePartKey(p as JsonObject, field);
    }
    return { text: out, images };
  }
  throw new SimHttpError(400, `invalid type for field "${field}": expected string or array`, field);
}

export function openaiChat(ctx: SimContext, ex: Exchange, body: JsonObject): void {
  const model = requireModel(body);
  const messages = optArray(body, 'messages');
  if (messages === undefined) throw new SimHttpError(400, 'messages is required', 'messages');
  if (messages.length === 0) throw new SimHttpError(400, "[] is too short - 'messages'", 'messages');
  const sampling = parseSampling(body);
  const format = parseResponseFormat(body);
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
    const role = optString(m as JsonObject, 'role', `messages[${i}].role`);
    if (role === undefined)
      throw new SimHttpError(400, `messages[${i}].role is required`, `messages[${i}].role`);
    const { text: content, images } = contentText((m as JsonObject).content, `messages[${i}].content`);
    promptTokens += countWords(content);
    key += `${role}\u0001${content}${images}\u0002`;
    last = { role, content };
  });
  const info = findModel(ctx, model, true);
  key = `${ctx.opts.seed}\u0000${info.name}\u0000${key}\u0000${sampling.seed ?? ''}\u0000${JSON.stringify(format)}${openaiSalt(ctx, body)}`;
  const forced = forcedToolOf(body.tool_choice, tools);
  const call =
    forced === null
      ? undefined
      : forced !== undefined
        ? planToolCall(forced, key)
        : tools !== undefined && tools.length > 0 && last?.role === 'user' && TOOL_TRIGGER.test(last.content)
          ? planToolCall(tools[0], key)
          : undefined;
  const plan =
    call !== undefined
      ? { pieces: [call], finishReason: 'stop' as const }
      : planText({
          key,
          limit: sampling.limit,
          defaultTokens: ctx.opts.defaultTokens,
          stop: sampling.stop,
          json: format,
        });
  const logprobs = wantedLogprobs(body.logprobs, body.top_logprobs);
  const r = openaiRenderer(ex, {
    mode: 'chat',
    model,
    sampling,
    promptTokens,
    finishReason: plan.finishReason,
    ...(logprobs !== undefined ? { logprobs } : {}),
  });
  runGeneration(ctx, ex, r, plan.pieces);
}

export function openaiCompletions(ctx: SimContext, ex: Exchange, body: JsonObject): void {
  const model = requireModel(body);
  const prompt = optString(body, 'prompt') ?? '';
  const suffix = optString(body, 'suffix') ?? '';
  const sampling = parseSampling(body);
  const info = findModel(ctx, model, true);
  const key = `${ctx.opts.seed}\u0000${info.name}\u0000\u0001${prompt}\u0001${suffix}\u0000${sampling.seed ?? ''}\u0000false${openaiSalt(ctx, body)}`;
  const plan = planText({
    key,
    limit: sampling.limit,
    defaultTokens: ctx.opts.defaultTokens,
    stop: sampling.stop,
    json: false,
  });
  const promptTokens = countWords(prompt);
  const r = openaiRenderer(ex, {
    mode: 'text',
    model,
    sampling,
    promptTokens,
    finishReason: plan.finishReason,
  });
  runGeneration(ctx, ex, r, plan.pieces);
}

export function openaiEmbeddings(ctx: SimContext, ex: Exchange, body: JsonObject): void {
  const model = requireModel(body);
  const input = body.input;
  let inputs: string[];
  const isTokens = (v: unknown): v is number[] =>
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0);
  if (typeof input === 'string') inputs = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((s) => typeof s === 'string')) {
    inputs = input;
  } else if (isTokens(input)) inputs = [tokenText(input)];
  else if (Array.isArray(input) && input.length > 0 && input.every(isTokens)) {
    // Token arrays, as vLLM and llama.cpp accept them: each id stands for one word.
    inputs = input.map(tokenText);
  } else
    throw new SimHttpError(
      400,
      'input must be a string, a non-empty array of strings, a token array or an array of token arrays',
      'input',
    );
  const encoding = optString(body, 'encoding_format') ?? 'float';
  if (encoding !== 'float' && encoding !== 'base64') {
    throw new SimHttpError(
      400,
      `invalid encoding_format "${encoding}": expected float or base64`,
      'encoding_format',
    );
  }
  const dims = optInt(body, 'dimensions') ?? DEFAULT_DIMENSIONS;
  if (dims <= 0) throw new SimHttpError(400, 'dimensions must be a positive integer', 'dimensions');
  const info = findModel(ctx, model, false);
  const promptTokens = inputs.reduce((n, s) => n + countWords(s), 0);
  const r = oneShotRenderer(
    ex,
    () => ({
      object: 'list',
      data: inputs.map((s, index) => {
        const v = embedVector(info.name, s, dims);
        return {
          object: 'embedding',
          index,
          embedding: encoding === 'base64' ? toBase64(v) : toFloatArray(v),
        };
      }),
      model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    }),
    sendOpenAIError,
  );
  runGeneration(ctx, ex, r, []);
}

/** Token ids as text: one word per id (`t<id>`), so prompt tokens = number of ids. */
const tokenText = (ids: number[]): string => ids.map((n) => `t${n}`).join(' ');

function modelObject(m: SimModel, ownedBy: string): JsonObject {
  return { id: m.name, object: 'model', created: m.created, owned_by: ownedBy };
}

export function openaiModels(ctx: SimContext, ex: Exchange): void {
  const ownedBy = ctx.opts.ownedBy ?? 'library';
  sendJson(ex.res, 200, { object: 'list', data: ctx.models.all.map((m) => modelObject(m, ownedBy)) });
}

export function openaiModel(ctx: SimContext, ex: Exchange, id: string): void {
  const m = ctx.models.find(id);
  if (m === undefined)
    throw new SimHttpError(404, `The model '${id}' does not exist`, 'model', 'model_not_found');
  sendJson(ex.res, 200, modelObject(m, ctx.opts.ownedBy ?? 'library'));
}
