import type { RequestKind, TargetMode } from './types.js';

/**
 * What each target speaks: request bodies per kind and how a response body is judged. This is the
 * only file of the load tester that knows wire formats; it follows the public API docs
 * (SutazAI /api/v1, OpenAI /v1/chat/completions, Ollama /api/chat), not gateway code.
 */
export interface ProtocolOptions {
  target: TargetMode;
  /** Path prefix of the base URL, without trailing slash ("" or e.g. "/gw"). */
  basePath: string;
  model?: string;
  maxTokens?: number;
  /** SutazAI task type for `task` requests (default text_generation). */
  taskType: string;
}

export interface WireRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

export type BodyCheck = { ok: true; tokens: number } | { ok: false; detail: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function nonEmpty(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** Join the base path and a route; an OpenAI base URL that already ends in /v1 keeps one /v1. */
export function routePath(opts: ProtocolOptions, route: string): string {
  if (opts.target === 'openai' && opts.basePath.endsWith('/v1') && route.startsWith('/v1/')) {
    return opts.basePath + route.slice(3);
  }
  return opts.basePath + route;
}

/** The cheap GET used to pre-open connections and for `health` requests. */
export function healthRoute(target: TargetMode): string {
  if (target === 'openai') return '/v1/models';
  if (target === 'ollama') return '/api/version';
  return '/health';
}

export function buildRequest(kind: RequestKind, prompt: string, opts: ProtocolOptions): WireRequest {
  if (kind === 'health') return { method: 'GET', path: routePath(opts, healthRoute(opts.target)) };
  const stream = kind === 'stream';
  if (opts.target === 'sutazai') {
    if (kind === 'task') {
      const payload: Record<string, unknown> = { prompt };
      if (opts.model !== undefined) payload.model = opts.model;
      return {
        method: 'POST',
        path: routePath(opts, '/api/v1/tasks'),
        body: JSON.stringify({ task_type: opts.taskType, payload }),
      };
    }
    const body: Record<string, unknown> = { message: prompt };
    if (opts.model !== undefined) body.model = opts.model;
    if (opts.maxTokens !== undefined) body.options = { num_predict: opts.maxTokens };
    return {
      method: 'POST',
      path: routePath(opts, stream ? '/api/v1/chat/stream' : '/api/v1/chat'),
      body: JSON.stringify(body),
    };
  }
  const messages = [{ role: 'user', content: prompt }];
  if (opts.target === 'openai') {
    const body: Record<string, unknown> = { model: opts.model, messages, stream };
    if (opts.maxTokens !== undefined) body.max_tokens = opts.maxTokens;
    return { method: 'POST', path: routePath(opts, '/v1/chat/completions'), body: JSON.stringify(body) };
  }
  const body: Record<string, unknown> = { model: opts.model, messages, stream };
  if (opts.maxTokens !== undefined) body.options = { num_predict: opts.maxTokens };
  return { method: 'POST', path: routePath(opts, '/api/chat'), body: JSON.stringify(body) };
}

/** Judge a complete (non-streaming) JSON body of a chat or health response. */
export function checkBody(kind: RequestKind, target: TargetMode, json: unknown): BodyCheck {
  if (!isRecord(json)) return { ok: false, detail: 'body is not a JSON object' };
  if (kind === 'health') {
    if (target === 'openai') {
      return Array.isArray(json.data)
        ? { ok: true, tokens: 0 }
        : { ok: false, detail: 'models: no data array' };
    }
    if (target === 'ollama') {
      return nonEmpty(json.version) ? { ok: true, tokens: 0 } : { ok: false, detail: 'version missing' };
    }
    return nonEmpty(json.status) ? { ok: true, tokens: 0 } : { ok: false, detail: 'health: no status' };
  }
  if (target === 'sutazai') {
    if (!nonEmpty(json.response)) return { ok: false, detail: 'chat: empty or missing "response"' };
    const usage = isRecord(json.usage) ? json.usage : {};
    return { ok: true, tokens: num(usage.completion_tokens) };
  }
  if (target === 'openai') {
    const choice: unknown = Array.isArray(json.choices) ? json.choices[0] : undefined;
    const msg = isRecord(choice) && isRecord(choice.message) ? choice.message : undefined;
    if (msg === undefined || !(nonEmpty(msg.content) || Array.isArray(msg.tool_calls))) {
      return { ok: false, detail: 'chat: choices[0].message has no content' };
    }
    const usage = isRecord(json.usage) ? json.usage : {};
    return { ok: true, tokens: num(usage.completion_tokens) };
  }
  const msg = isRecord(json.message) ? json.message : undefined;
  if (msg === undefined || !nonEmpty(msg.content))
    return { ok: false, detail: 'chat: empty message.content' };
  if (json.done !== true) return { ok: false, detail: 'chat: done is not true' };
  return { ok: true, tokens: num(json.eval_count) };
}

/** What one stream event/line means to the load tester. */
export type StreamItem =
  | { type: 'token'; text: string }
  | { type: 'final'; tokens: number }
  | { type: 'error'; detail: string }
  | { type: 'ignore' };

function textField(o: Record<string, unknown>): string {
  for (const k of ['token', 'content', 'text', 'response', 'delta']) {
    const v = o[k];
    if (typeof v === 'string') return v;
    if (isRecord(v) && typeof v.content === 'string') return v.content;
  }
  return '';
}

function errorText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (isRecord(v) && typeof v.message === 'string') return v.message;
  return JSON.stringify(v);
}

/**
 * SutazAI /api/v1/chat/stream (SSE). Read tolerantly: `event: error` or an `error` field is an
 * error; `event: done|end|final`, `done: true`, a `finish_reason` or `data: [DONE]` is the final
 * event (usage.completion_tokens if given); any other event with text is a token.
 */
export function interpretSutazaiEvent(event: string, data: string): StreamItem {
  if (data === '[DONE]') return { type: 'final', tokens: 0 };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return event === 'error' ? { type: 'error', detail: data.slice(0, 200) } : { type: 'token', text: data };
  }
  const o = isRecord(json) ? json : {};
  if (event === 'error' || (o.error !== undefined && o.error !== null)) {
    return { type: 'error', detail: errorText(o.error ?? json) };
  }
  const finishReason = o.finish_reason ?? o.finishReason;
  if (
    ['done', 'end', 'final'].includes(event) ||
    o.done === true ||
    (finishReason !== undefined && finishReason !== null)
  ) {
    const usage = isRecord(o.usage) ? o.usage : {};
    return { type: 'final', tokens: num(usage.completion_tokens ?? usage.completionTokens) };
  }
  const text = textField(o);
  return text === '' ? { type: 'ignore' } : { type: 'token', text };
}

/** OpenAI chat.completion.chunk events; `[DONE]` or a finish_reason ends the stream. */
export function interpretOpenAiEvent(_event: string, data: string): StreamItem {
  if (data === '[DONE]') return { type: 'final', tokens: 0 };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { type: 'error', detail: 'stream: data is not JSON' };
  }
  if (!isRecord(json)) return { type: 'error', detail: 'stream: chunk is not an object' };
  if (json.error !== undefined && json.error !== null)
    return { type: 'error', detail: errorText(json.error) };
  const choice: unknown = Array.isArray(json.choices) ? json.choices[0] : undefined;
  if (isRecord(json.usage) && choice === undefined) {
    return { type: 'final', tokens: num(json.usage.completion_tokens) };
  }
  if (!isRecord(choice)) return { type: 'ignore' };
  const delta = isRecord(choice.delta) ? choice.delta : {};
  if (nonEmpty(delta.content)) return { type: 'token', text: delta.content };
  if (choice.finish_reason !== undefined && choice.finish_reason !== null)
    return { type: 'final', tokens: 0 };
  return { type: 'ignore' };
}

/** Ollama NDJSON lines; `done: true` ends the stream with eval_count tokens. */
export function interpretOllamaLine(line: string): StreamItem {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { type: 'error', detail: 'stream: line is not JSON' };
  }
  if (!isRecord(json)) return { type: 'error', detail: 'stream: line is not an object' };
  if (json.error !== undefined) return { type: 'error', detail: errorText(json.error) };
  const msg = isRecord(json.message) ? json.message : {};
  if (json.done === true) return { type: 'final', tokens: num(json.eval_count) };
  return nonEmpty(msg.content) ? { type: 'token', text: msg.content } : { type: 'ignore' };
}

/** Task status payload: final states and the id of a fresh submission. */
export function taskId(json: unknown): string | undefined {
  if (!isRecord(json)) return undefined;
  const id = json.task_id ?? json.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

export type TaskState =
  { final: false } | { final: true; ok: true; tokens: number } | { final: true; ok: false; detail: string };

export function taskState(json: unknown): TaskState | { final: true; ok: false; detail: string } {
  if (!isRecord(json) || typeof json.status !== 'string')
    return { final: true, ok: false, detail: 'task: no status' };
  if (
    json.status === 'queued' ||
    json.status === 'running' ||
    json.status === 'active' ||
    json.status === 'waiting'
  ) {
    return { final: false };
  }
  if (json.status === 'completed') {
    if (json.result === undefined || json.result === null)
      return { final: true, ok: false, detail: 'task: completed without result' };
    const result = isRecord(json.result) ? json.result : {};
    const usage = isRecord(result.usage) ? result.usage : {};
    return { final: true, ok: true, tokens: num(usage.completion_tokens) };
  }
  return {
    final: true,
    ok: false,
    detail: `task ${json.status}: ${errorText(json.error ?? '')}`.slice(0, 200),
  };
}
