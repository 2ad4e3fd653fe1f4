import { setTimeout as sleep } from 'node:timers/promises';
import {
  buildRequest,
  checkBody,
  interpretOllamaLine,
  interpretOpenAiEvent,
  interpretSutazaiEvent,
  routePath,
  taskId,
  taskState,
  type ProtocolOptions,
  type StreamItem,
} from './protocol.js';
import { createLineSplitter, createSseParser } from './stream-parse.js';
import type { HttpBody, HttpConnection, HttpResponse } from './raw-http.js';
import type { Outcome, RequestKind, RequestResult } from './types.js';

/** Everything one request needs; built once per run. */
export interface ExecContext {
  /** Origin only, e.g. http://127.0.0.1:10010 */
  origin: string;
  protocol: ProtocolOptions;
  /** Extra request headers (e.g. Authorization). */
  headers: Record<string, string>;
  /** Task polling interval, ms. */
  taskPollMs: number;
  /** Give up polling a task after this long, ms. */
  taskTimeoutMs: number;
}

const NS_PER_MS = 1_000_000n;

export function msSince(t0: bigint, now = process.hrtime.bigint()): number {
  return Number(now - t0) / Number(NS_PER_MS);
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** Map a thrown client error to an outcome; unknown exceptions are `other`, never hidden. */
export function classifyError(err: unknown): { outcome: Outcome; detail: string } {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const name = typeof e?.name === 'string' ? e.name : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const detail = `${code || name}: ${message}`.slice(0, 200);
  if (TIMEOUT_CODES.has(code) || name === 'TimeoutError') return { outcome: 'timeout', detail };
  if (
    code.startsWith('UND_ERR_') ||
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'EPIPE',
      'ENOTFOUND',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'EADDRNOTAVAIL',
    ].includes(code)
  ) {
    return { outcome: 'connection', detail };
  }
  return { outcome: 'other', detail };
}

function fail(outcome: Outcome, status: number, detail: string): RequestResult {
  return { outcome, status, tokens: 0, ttftMs: Number.NaN, detail };
}

type Body = HttpBody;

const endOf = (res: HttpResponse): { endNs?: bigint } =>
  res.body.endNs !== undefined ? { endNs: res.body.endNs } : {};

async function send(
  ctx: ExecContext,
  d: HttpConnection,
  method: 'GET' | 'POST',
  path: string,
  body?: string,
): Promise<HttpResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...ctx.headers };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return d.request(body === undefined ? { method, path, headers } : { method, path, headers, body });
}

async function readJson(body: Body): Promise<{ ok: true; json: unknown } | { ok: false; detail: string }> {
  const text = await body.text();
  try {
    return { ok: true, json: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, detail: `body is not JSON: ${text.slice(0, 80)}` };
  }
}

async function httpFailure(res: HttpResponse): Promise<RequestResult> {
  const text = await res.body.text().catch(() => '');
  return fail('http', res.statusCode, `HTTP ${res.statusCode}: ${text.slice(0, 120)}`);
}

async function readStream(res: HttpResponse, ctx: ExecContext, t0: bigint): Promise<RequestResult> {
  const ndjson = ctx.protocol.target === 'ollama';
  const sse = createSseParser();
  const lines = createLineSplitter();
  const interpret = ctx.protocol.target === 'openai' ? interpretOpenAiEvent : interpretSutazaiEvent;
  const gaps: number[] = [];
  let ttft = Number.NaN;
  let last = 0n;
  let events = 0;
  let finalTokens = -1;
  let error: string | undefined;

  const handle = (item: StreamItem): void => {
    if (error !== undefined || finalTokens >= 0) return;
    if (item.type === 'error') error = item.detail;
    else if (item.type === 'final') finalTokens = item.tokens;
    else if (item.type === 'token') {
      const now = process.hrtime.bigint();
      if (events === 0) ttft = msSince(t0, now);
      else gaps.push(msSince(last, now));
      last = now;
      events++;
    }
  };
  const feed = (text: string, end: boolean): void => {
    if (ndjson) {
      for (const l of end ? lines.end() : lines.push(text)) handle(interpretOllamaLine(l));
    } else {
      for (const ev of end ? sse.end() : sse.push(text)) handle(interpret(ev.event, ev.data));
    }
  };

  for await (const chunk of res.body) feed(chunk, false);
  feed('', true);
  if (error !== undefined) return fail('stream', res.statusCode, `stream error: ${error}`.slice(0, 200));
  if (finalTokens < 0) return fail('stream', res.statusCode, 'stream ended without its final event');
  if (events === 0) return fail('body', res.statusCode, 'stream carried no tokens');
  return {
    outcome: 'ok',
    status: res.statusCode,
    tokens: finalTokens > 0 ? finalTokens : events,
    ttftMs: ttft,
    gapsMs: gaps,
    ...endOf(res),
  };
}

async function runTask(
  ctx: ExecContext,
  d: HttpConnection,
  prompt: string,
  t0: bigint,
): Promise<RequestResult> {
  const req = buildRequest('task', prompt, ctx.protocol);
  const res = await send(ctx, d, req.method, req.path, req.body);
  if (res.statusCode < 200 || res.statusCode >= 300) return httpFailure(res);
  const submitted = await readJson(res.body);
  if (!submitted.ok) return fail('body', res.statusCode, submitted.detail);
  const id = taskId(submitted.json);
  if (id === undefined) return fail('body', res.statusCode, 'task: no task_id in submit response');
  const path = routePath(ctx.protocol, `/api/v1/tasks/${encodeURIComponent(id)}`);
  for (;;) {
    if (msSince(t0) > ctx.taskTimeoutMs)
      return fail('timeout', 0, `task ${id} not final after ${ctx.taskTimeoutMs} ms`);
    await sleep(ctx.taskPollMs);
    const poll = await send(ctx, d, 'GET', path);
    if (poll.statusCode !== 200) return httpFailure(poll);
    const body = await readJson(poll.body);
    if (!body.ok) return fail('body', poll.statusCode, body.detail);
    const state = taskState(body.json);
    if (!state.final) continue;
    if (state.ok) return { outcome: 'ok', status: poll.statusCode, tokens: state.tokens, ttftMs: Number.NaN };
    return fail('task_failed', poll.statusCode, state.detail);
  }
}

/**
 * Perform one request of `kind` on connection `d` and judge it. Never throws: every failure becomes an outcome.
 * `t0` is the request's start (open loop: its scheduled start) for time-to-first-token.
 */
export async function executeRequest(
  ctx: ExecContext,
  d: HttpConnection,
  kind: RequestKind,
  prompt: string,
  t0: bigint,
): Promise<RequestResult> {
  try {
    if (kind === 'task') return await runTask(ctx, d, prompt, t0);
    const req = buildRequest(kind, prompt, ctx.protocol);
    const res = await send(ctx, d, req.method, req.path, req.body);
    if (res.statusCode < 200 || res.statusCode >= 300) return await httpFailure(res);
    if (kind === 'stream') return await readStream(res, ctx, t0);
    const body = await readJson(res.body);
    if (!body.ok) return fail('body', res.statusCode, body.detail);
    const check = checkBody(kind, ctx.protocol.target, body.json);
    if (!check.ok) return fail('body', res.statusCode, check.detail);
    return { outcome: 'ok', status: res.statusCode, tokens: check.tokens, ttftMs: Number.NaN, ...endOf(res) };
  } catch (err) {
    const c = classifyError(err);
    return fail(c.outcome, 0, c.detail);
  }
}
