import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { parseSse, waitFor } from '../helpers/http.js';

// Issue 23, finding 8: on SIGTERM, streams still running when the grace period ended were cut
// without an error event: a client could not tell a shutdown from a network fault mid-answer.

/** POST and read the whole body as it comes, keeping what arrived even if the connection is cut. */
function streamBody(url: string, body: unknown): Promise<{ text: string; cut: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ text, cut: false }));
        res.on('error', () => resolve({ text, cut: true }));
        res.on('aborted', () => resolve({ text, cut: true }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const SHUTDOWN = 'SUTAZAI_ERR_SHUTTING_DOWN';
const dataFrames = (text: string) =>
  text
    .split('\n\n')
    .filter((b) => b.startsWith('data: '))
    .map((b) => b.slice(6));

describe('finding 8: streams cut by a shutdown end with their surface error frame', () => {
  let s: Stack;
  beforeAll(async () => {
    // 5 tokens/s and 200 tokens: each stream would run 40 s; the grace period is 0.5 s.
    s = await startStack({
      sim: { tps: 5, ttftMs: 10 },
      gateway: { cacheMode: 'off', shutdownGraceMs: 500 },
    });
  });
  afterAll(async () => {
    await s.sim.close();
  });

  it('v1 error event, OpenAI error chunk, Ollama error line; upstream calls aborted', async () => {
    const v1 = streamBody(`${s.gw.url}/api/v1/chat/stream`, {
      message: 'shutdown v1',
      options: { num_predict: 200 },
    });
    const openai = streamBody(`${s.gw.url}/v1/chat/completions`, {
      model: 'tinyllama',
      stream: true,
      max_tokens: 200,
      messages: [{ role: 'user', content: 'shutdown openai' }],
    });
    const ollama = streamBody(`${s.gw.url}/api/chat`, {
      model: 'tinyllama',
      options: { num_predict: 200 },
      messages: [{ role: 'user', content: 'shutdown ollama' }],
    });
    await waitFor(() => s.sim.stats().active === 3, 10_000, 'three streams generating');
    const started = Date.now();
    await s.gw.close();
    expect(Date.now() - started).toBeLessThan(5000);

    const v1Body = await v1;
    expect(v1Body.cut).toBe(false);
    const last = parseSse(v1Body.text).at(-1);
    expect(last?.event).toBe('error');
    expect(last?.data).toMatchObject({
      error: { code: SHUTDOWN, message: expect.stringMatching(/shutting down/) as unknown },
    });
    expect(parseSse(v1Body.text).some((e) => e.event === 'token')).toBe(true);

    const oaBody = await openai;
    expect(oaBody.cut).toBe(false);
    const frames = dataFrames(oaBody.text);
    const lastFrame = JSON.parse(frames.at(-1) ?? '{}') as Record<string, unknown>;
    expect(lastFrame).toMatchObject({ error: { code: SHUTDOWN, type: 'api_error' } });
    expect(frames.length).toBeGreaterThan(1);

    const olBody = await ollama;
    expect(olBody.cut).toBe(false);
    const lines = olBody.text.split('\n').filter((l) => l.trim());
    const lastLine = JSON.parse(lines.at(-1) ?? '{}') as Record<string, unknown>;
    expect(lastLine).toEqual({ error: expect.stringMatching(/shutting down/) as unknown });
    expect(lines.length).toBeGreaterThan(1);

    // No generation left running upstream for a client that is gone.
    await waitFor(() => s.sim.stats().active === 0, 5000, 'upstream generations aborted');
    expect(s.sim.stats().aborted).toBeGreaterThanOrEqual(3);
  });
});
