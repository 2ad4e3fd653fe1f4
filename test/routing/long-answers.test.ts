import { afterEach, describe, expect, it } from 'vitest';
import { errors } from '../../src/errors/catalogue.js';
import { classifyError } from '../../src/queue/outcome.js';
import { startFleet, type Fleet } from './fleet.js';

/** Streams /api/chat and returns the NDJSON lines and the time the stream took. */
async function streamChat(url: string, content: string) {
  const started = performance.now();
  const res = await fetch(`${url}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content }], stream: true }),
  });
  const lines = (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { done?: boolean; error?: string; eval_count?: number });
  return { status: res.status, lines, ms: performance.now() - started };
}

describe('timeouts fit generation', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('an answer streaming for 5 s completes under 1 s TTFT and inter-token limits (stream and non-stream)', async () => {
    // 50 tokens at 10 tokens/s: 5 s of generation, 100 ms between tokens.
    fleet = await startFleet([{ sim: { tps: 10, defaultTokens: 50 } }], {
      ttftTimeoutMs: 1000,
      streamIdleTimeoutMs: 1000,
    });
    const f = fleet;
    const [stream, whole] = await Promise.all([
      streamChat(f.gw.url, 'a long story, streamed'),
      f.chat('llama3.2', 'a long story, whole'),
    ]);
    expect(stream.status).toBe(200);
    expect(stream.lines.at(-1)).toMatchObject({ done: true, eval_count: 50 });
    expect(stream.lines.some((l) => l.error !== undefined)).toBe(false);
    expect(stream.ms).toBeGreaterThan(4500);
    expect(whole.status).toBe(200);
    expect(whole.json).toMatchObject({ done: true, eval_count: 50 });
  });

  it('a first token later than SUTAZAI_TTFT_TIMEOUT_MS → 504 naming it, and the upstream slot is freed', async () => {
    fleet = await startFleet([{ sim: { ttftMs: 1500 } }], { ttftTimeoutMs: 300 });
    const f = fleet;
    const r = await streamChat(f.gw.url, 'slow to start');
    expect(r.status).toBe(504);
    expect(r.lines[0]?.error).toMatch(/time to first token/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(f.sims[0]!.stats().aborted).toBe(1);
  });

  it('a whole-call limit cut is not retried by tasks; a time-to-first-token timeout is', () => {
    expect(classifyError(errors.upstreamTimeout('u0', 'total')).retryable).toBe(false);
    expect(classifyError(errors.upstreamTimeout('u0', 'time to first token')).retryable).toBe(true);
    expect(classifyError(errors.upstreamTimeout('u0', 'idle between stream chunks')).retryable).toBe(true);
  });

  it('honest long answer: 12 s of tokens with the default settings, streamed and whole', async () => {
    // 120 tokens at 10 tokens/s. Defaults: no whole-call limit, 30 s between tokens.
    fleet = await startFleet([{ sim: { tps: 10, defaultTokens: 120 } }]);
    const f = fleet;
    expect(f.gw.config.timeoutMs).toBe(0);
    const [stream, whole] = await Promise.all([
      streamChat(f.gw.url, 'the longest story, streamed'),
      f.chat('llama3.2', 'the longest story, whole'),
    ]);
    expect(stream.status).toBe(200);
    expect(stream.lines.at(-1)).toMatchObject({ done: true, eval_count: 120 });
    expect(stream.ms).toBeGreaterThan(11_000);
    expect(whole.status).toBe(200);
    expect(whole.json).toMatchObject({ done: true, eval_count: 120 });
  }, 20_000);
});
