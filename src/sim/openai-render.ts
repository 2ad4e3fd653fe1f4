import { randomUUID } from 'node:crypto';
import type { Exchange, Piece, Renderer, Timing } from './engine.js';
import { sendJson, SimHttpError } from './http.js';
import type { JsonObject } from './http.js';
import type { FinishReason, SimToolCall } from './text.js';
import { simLogprob, type SimLogprob } from './logprobs.js';

/** Writes OpenAI responses: full JSON, SSE chunks (docs/protocols.md C.2/C.3/C.4) and error envelopes. */

const FINGERPRINT = 'fp_sutazai_sim';

function errorType(status: number): string {
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  if (status >= 400) return 'invalid_request_error';
  return 'api_error';
}

export function sendOpenAIError(ex: Exchange, err: SimHttpError): void {
  const body = {
    error: { message: err.message, type: errorType(err.status), param: err.param, code: err.code },
  };
  sendJson(ex.res, err.status, body, err.status === 503 ? { 'retry-after': '1' } : undefined);
}

export interface Sampling {
  limit: number | undefined;
  seed: number | undefined;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
}

export interface OpenAIWork {
  mode: 'chat' | 'text';
  model: string;
  sampling: Sampling;
  promptTokens: number;
  finishReason: FinishReason;
  /** Alternatives per token when the request asked for logprobs (chat only). */
  logprobs?: number;
}

/** llama.cpp's `timings` object (llama-server answers carry it; ms). */
function llamaTimings(t: Timing, promptTokens: number, predicted: number): JsonObject {
  const promptMs = (t.loadNs + t.promptEvalNs) / 1e6;
  const predictedMs = t.evalNs / 1e6;
  return {
    prompt_n: promptTokens,
    prompt_ms: promptMs,
    prompt_per_token_ms: promptTokens > 0 ? promptMs / promptTokens : 0,
    prompt_per_second: promptMs > 0 ? (1e3 * promptTokens) / promptMs : 0,
    predicted_n: predicted,
    predicted_ms: predictedMs,
    predicted_per_token_ms: predicted > 0 ? predictedMs / predicted : 0,
    predicted_per_second: predictedMs > 0 ? (1e3 * predicted) / predictedMs : 0,
  };
}

function toolCallJson(c: SimToolCall): JsonObject {
  return { id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } };
}

export function openaiRenderer(ex: Exchange, w: OpenAIWork): Renderer {
  const { res } = ex;
  const chat = w.mode === 'chat';
  const id = (chat ? 'chatcmpl-' : 'cmpl-') + randomUUID();
  const created = Math.floor(Date.now() / 1000);
  const object = chat ? 'chat.completion.chunk' : 'text_completion';
  const { stream, includeUsage } = w.sampling;
  let started = false;
  let count = 0;
  let text = '';
  const calls: SimToolCall[] = [];
  const lps: SimLogprob[] = [];
  const wantLp = chat && w.logprobs !== undefined;
  const send = (payload: unknown): void => {
    res.write(`data: ${JSON.stringify(payload)}\n\n`);
  };
  const chunk = (delta: JsonObject | string, finish: string | null, lp: unknown = null): JsonObject => {
    const choice = chat
      ? { index: 0, delta, logprobs: lp, finish_reason: finish }
      : { text: delta, index: 0, logprobs: null, finish_reason: finish };
    const c: JsonObject = {
      id,
      object,
      created,
      model: w.model,
      system_fingerprint: FINGERPRINT,
      choices: [choice],
    };
    if (includeUsage) c.usage = null;
    return c;
  };
  const head = (): void => {
    if (started) return;
    started = true;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (chat) send(chunk({ role: 'assistant', content: '' }, null));
  };
  const finishReason = (): string => (calls.length > 0 ? 'tool_calls' : w.finishReason);
  const usage = (): JsonObject => ({
    prompt_tokens: w.promptTokens,
    completion_tokens: count,
    total_tokens: w.promptTokens + count,
  });
  return {
    piece(p: Piece) {
      count++;
      let lp: SimLogprob | undefined;
      if (typeof p === 'string') {
        text += p;
        if (wantLp) lps.push((lp = simLogprob(p, count - 1, w.logprobs ?? 0)));
      } else calls.push(p);
      if (!stream) return;
      head();
      if (typeof p === 'string') {
        send(chunk(chat ? { content: p } : p, null, lp ? { content: [lp], refusal: null } : null));
        return;
      }
      // A tool call streams as OpenAI does: name first, then argument fragments.
      const args = JSON.stringify(p.arguments);
      const half = Math.ceil(args.length / 2);
      const index = calls.length - 1;
      const first = { index, id: p.id, type: 'function', function: { name: p.name, arguments: '' } };
      send(chunk({ tool_calls: [first] }, null));
      for (const part of [args.slice(0, half), args.slice(half)]) {
        if (part !== '') send(chunk({ tool_calls: [{ index, function: { arguments: part } }] }, null));
      }
    },
    finish(t) {
      if (!stream) {
        const choice = chat
          ? {
              index: 0,
              message: {
                role: 'assistant',
                content: calls.length > 0 ? null : text,
                refusal: null,
                ...(calls.length > 0 ? { tool_calls: calls.map(toolCallJson) } : {}),
              },
              logprobs: wantLp ? { content: lps, refusal: null } : null,
              finish_reason: finishReason(),
            }
          : { text, index: 0, logprobs: null, finish_reason: finishReason() };
        sendJson(res, 200, {
          id,
          object: chat ? 'chat.completion' : 'text_completion',
          created,
          model: w.model,
          system_fingerprint: FINGERPRINT,
          choices: [choice],
          usage: usage(),
          timings: llamaTimings(t, w.promptTokens, count),
        });
        return;
      }
      head();
      send({ ...chunk(chat ? {} : '', finishReason()), timings: llamaTimings(t, w.promptTokens, count) });
      if (includeUsage) {
        send({
          id,
          object,
          created,
          model: w.model,
          system_fingerprint: FINGERPRINT,
          choices: [],
          usage: usage(),
        });
      }
      res.end('data: [DONE]\n\n');
    },
    fail: (err) => sendOpenAIError(ex, err),
    midStreamError(message) {
      if (!stream || !started) {
        sendOpenAIError(ex, new SimHttpError(500, message));
        return;
      }
      send({ error: { message, type: 'server_error', param: null, code: null } });
      res.end();
    },
  };
}
