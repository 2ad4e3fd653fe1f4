import { afterEach, describe, expect, it } from 'vitest';
import { executeRequest, type ExecContext } from '../../src/loadtest/execute.js';
import { createHttpConnection, type HttpConnection } from '../../src/loadtest/raw-http.js';
import {
  checkBody,
  interpretOllamaLine,
  interpretOpenAiEvent,
  interpretSutazaiEvent,
} from '../../src/loadtest/protocol.js';
import { createSseParser } from '../../src/loadtest/stream-parse.js';
import { startFakeTarget, type FakeTarget } from './fake-target.js';
import { QUICK, runCli } from './cli-helpers.js';

let target: FakeTarget | undefined;
const clients: HttpConnection[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await target?.close();
  target = undefined;
});

function ctxFor(url: string): [ExecContext, HttpConnection] {
  const client = createHttpConnection(url, { timeoutMs: 5000 });
  clients.push(client);
  const ctx: ExecContext = {
    origin: url,
    protocol: { target: 'sutazai', basePath: '', taskType: 'text_generation' },
    headers: {},
    taskPollMs: 5,
    taskTimeoutMs: 5000,
  };
  return [ctx, client];
}

describe('body checks', () => {
  it('a 200 whose JSON has an empty "response" is a body error, not a success', async () => {
    target = await startFakeTarget({ chatBody: () => '{"response":"","usage":{"completion_tokens":0}}' });
    const r = await executeRequest(...ctxFor(target.url), 'repeat', 'hi', process.hrtime.bigint());
    expect(r.outcome).toBe('body');
    expect(r.status).toBe(200);
    expect(r.detail).toContain('response');
  });

  it('a 200 with an error text instead of JSON is a body error', async () => {
    target = await startFakeTarget({ chatBody: () => 'Error: upstream exploded' });
    const r = await executeRequest(...ctxFor(target.url), 'fresh', 'hi', process.hrtime.bigint());
    expect(r.outcome).toBe('body');
  });

  it('classifies status codes, refused connections, streams and tasks', async () => {
    target = await startFakeTarget({ chatStatus: () => 503, taskPolls: 2 });
    const ctx = ctxFor(target.url);
    const t0 = process.hrtime.bigint();
    expect(await executeRequest(...ctx, 'repeat', 'x', t0)).toMatchObject({ outcome: 'http', status: 503 });
    const stream = await executeRequest(...ctx, 'stream', 'x', t0);
    expect(stream).toMatchObject({ outcome: 'ok', tokens: 3 });
    expect(stream.gapsMs).toHaveLength(2);
    expect(Number.isFinite(stream.ttftMs)).toBe(true);
    expect(await executeRequest(...ctx, 'task', 'x', t0)).toMatchObject({ outcome: 'ok' });
    expect(await executeRequest(...ctx, 'health', 'x', t0)).toMatchObject({ outcome: 'ok' });
    const url = target.url;
    await target.close();
    target = undefined;
    expect((await executeRequest(...ctxFor(url), 'repeat', 'x', t0)).outcome).toBe('connection');
  });

  it('the CLI counts bad bodies as errors by kind and fails the SLO', async () => {
    target = await startFakeTarget({ chatBody: () => '{"response":null}' });
    const run = await runCli([
      'progressive',
      '--url',
      target.url,
      '--stages',
      '2',
      '--mix',
      'repeat=1',
      ...QUICK,
    ]);
    expect(run.code).toBe(1);
    const stats = run.report?.stages[0]?.stats;
    expect(stats?.ok).toBe(0);
    expect(stats?.errorsByKind.body).toBe(stats?.requests);
    expect(run.stdout).toContain('SLO FAIL');
  });
});

describe('stream and body interpretation', () => {
  it('SSE parser: multi-line data, comments, CRLF, and a truncated last event is dropped', () => {
    const p = createSseParser();
    const got = [
      ...p.push(': ping\r\nevent: token\r\ndata: a\r\ndata: b\r\n\r\ndata: {"x":1}\n'),
      ...p.push('\ndata: trunc'),
      ...p.end(),
    ];
    expect(got).toEqual([
      { event: 'token', data: 'a\nb' },
      { event: 'message', data: '{"x":1}' },
    ]);
  });

  it('SutazAI, OpenAI and Ollama stream items', () => {
    expect(interpretSutazaiEvent('token', '{"token":"hi"}')).toEqual({ type: 'token', text: 'hi' });
    expect(interpretSutazaiEvent('error', '{"error":{"message":"boom"}}')).toEqual({
      type: 'error',
      detail: 'boom',
    });
    expect(interpretSutazaiEvent('done', '{"usage":{"completion_tokens":7}}')).toEqual({
      type: 'final',
      tokens: 7,
    });
    expect(
      interpretOpenAiEvent('message', '{"choices":[{"delta":{"content":"x"},"finish_reason":null}]}'),
    ).toEqual({
      type: 'token',
      text: 'x',
    });
    expect(interpretOpenAiEvent('message', '[DONE]')).toEqual({ type: 'final', tokens: 0 });
    expect(interpretOpenAiEvent('message', 'not json').type).toBe('error');
    expect(interpretOllamaLine('{"message":{"content":"y"},"done":false}')).toEqual({
      type: 'token',
      text: 'y',
    });
    expect(interpretOllamaLine('{"error":"model not found"}')).toEqual({
      type: 'error',
      detail: 'model not found',
    });
    expect(interpretOllamaLine('{"message":{"content":""},"done":true,"eval_count":4}')).toEqual({
      type: 'final',
      tokens: 4,
    });
  });

  it('OpenAI and Ollama non-streaming bodies', () => {
    const oa = {
      choices: [{ message: { role: 'assistant', content: 'hi' } }],
      usage: { completion_tokens: 2 },
    };
    expect(checkBody('fresh', 'openai', oa)).toEqual({ ok: true, tokens: 2 });
    expect(checkBody('fresh', 'openai', { choices: [] }).ok).toBe(false);
    expect(checkBody('fresh', 'ollama', { message: { content: 'hi' }, done: true, eval_count: 3 })).toEqual({
      ok: true,
      tokens: 3,
    });
    expect(checkBody('fresh', 'ollama', { message: { content: 'hi' }, done: false }).ok).toBe(false);
    expect(checkBody('health', 'sutazai', { status: 'healthy' }).ok).toBe(true);
    expect(checkBody('health', 'sutazai', {}).ok).toBe(false);
  });
});
