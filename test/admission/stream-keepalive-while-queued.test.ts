import { request } from 'node:http';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/gateway.js';
import { waitFor } from '../helpers/http.js';
import { admissionStack, chatBody, expectNoTickets, post } from './helpers.js';

interface Timed {
  /** ms after the request was sent */
  headersAt: number;
  status: number;
  contentType: string;
  pieces: { at: number; text: string }[];
  body: string;
}

/** A streamed POST, recording when the headers and each piece of the body arrived. */
function timedStream(url: string, body: unknown): Promise<Timed> {
  const t0 = performance.now();
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const out: Timed = {
        headersAt: performance.now() - t0,
        status: res.statusCode ?? 0,
        contentType: String(res.headers['content-type']),
        pieces: [],
        body: '',
      };
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        out.pieces.push({ at: performance.now() - t0, text: c });
        out.body += c;
      });
      res.on('end', () => resolve(out));
    });
    req.on('error', reject);
    req.end(data);
  });
}

// One slot; each answer ~1 s (20 tokens at 20 tokens/s); keep-alives every 150 ms.
let stack: Stack;
beforeAll(async () => {
  stack = await admissionStack(
    { parallel: 1, maxQueue: 0, tps: 20, defaultTokens: 20 },
    { upstreamSlots: 1, queueTimeoutMs: 10000, streamKeepAliveMs: 150 },
  );
});
afterAll(async () => {
  await stack?.close();
});

/** Occupy the only slot with a ~1 s answer; resolves once it is running. */
async function occupy(): Promise<{ done: Promise<unknown> }> {
  const done = post(`${stack.gw.url}/api/chat`, chatBody());
  await waitFor(() => stack.gw.services.admission.stats()[0]?.active === 1, 2000, 'slot taken');
  // Wrapped: an async function returning the promise itself would wait for it.
  return { done };
}

describe('a stream that waits for a slot stays alive', () => {
  it('OpenAI SSE: headers at once, `: keep-alive` comments while queued, then the answer', async () => {
    const busy = await occupy();
    const s = await timedStream(`${stack.gw.url}/v1/chat/completions`, {
      model: 'tinyllama',
      stream: true,
      messages: [{ role: 'user', content: `sse ${Math.random()}` }],
    });
    await busy.done;
    expect(s.status).toBe(200);
    expect(s.contentType).toMatch(/^text\/event-stream/);
    expect(s.headersAt).toBeLessThan(300); // not after the ~1 s wait
    const firstData = s.pieces.findIndex((p) => p.text.includes('data:'));
    const before = s.pieces
      .slice(0, firstData)
      .map((p) => p.text)
      .join('');
    expect(before.match(/: keep-alive\n\n/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
    expect(s.pieces[firstData]?.at ?? 0).toBeGreaterThan(700);
    expect(s.body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    await expectNoTickets(stack);
  });

  it('the unmodified openai client reads a queued stream with keep-alives', async () => {
    const busy = await occupy();
    const client = new OpenAI({ baseURL: `${stack.gw.url}/v1`, apiKey: 'unused' });
    const stream = await client.chat.completions.create({
      model: 'tinyllama',
      stream: true,
      messages: [{ role: 'user', content: `sdk ${Math.random()}` }],
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    await busy.done;
    expect(text.length).toBeGreaterThan(10);
    await expectNoTickets(stack);
  });

  it('Ollama NDJSON: headers at once, but only JSON lines (the ollama client reads it)', async () => {
    const busy = await occupy();
    const s = await timedStream(`${stack.gw.url}/api/chat`, chatBody({ stream: true }));
    await busy.done;
    expect(s.status).toBe(200);
    expect(s.contentType).toMatch(/^application\/x-ndjson/);
    expect(s.headersAt).toBeLessThan(300);
    const lines = s.body.split('\n').filter((l) => l !== '');
    for (const l of lines) expect(() => JSON.parse(l) as unknown).not.toThrow();
    expect((JSON.parse(lines.at(-1) ?? '{}') as { done?: boolean }).done).toBe(true);

    const busy2 = await occupy();
    const ollama = new Ollama({ host: stack.gw.url });
    let text = '';
    for await (const part of await ollama.chat({
      model: 'tinyllama',
      stream: true,
      messages: [{ role: 'user', content: `ollama ${Math.random()}` }],
    }))
      text += part.message.content;
    await busy2.done;
    expect(text.length).toBeGreaterThan(10);
    await expectNoTickets(stack);
  });

  it('a queued stream that hits the bound ends with the surface error frame, not a hang', async () => {
    const tight = await admissionStack(
      { parallel: 1, maxQueue: 0, tps: 10, defaultTokens: 40 },
      { upstreamSlots: 1, queueTimeoutMs: 1500, streamKeepAliveMs: 150 },
    );
    try {
      // The prior service time (1 s) lets the stream queue; the ~4 s answer ahead outlasts the
      // bound plus one (prior) service time, 2.5 s.
      const busy = post(`${tight.gw.url}/api/chat`, chatBody());
      await waitFor(() => tight.gw.services.admission.stats()[0]?.active === 1, 2000, 'slot taken');
      const short = await timedStream(`${tight.gw.url}/v1/chat/completions`, {
        model: 'tinyllama',
        stream: true,
        messages: [{ role: 'user', content: `late ${Math.random()}` }],
      });
      await busy;
      expect(short.status).toBe(200);
      expect(short.body).toMatch(/: keep-alive/);
      expect(short.body).toMatch(/data: \{"error":\{.*at capacity/);
      await expectNoTickets(tight);
    } finally {
      await tight.close();
    }
  });

  it('a stream whose first token is slow (a model loading) gets keep-alives too', async () => {
    const slow = await admissionStack(
      { parallel: 4, maxQueue: 0, ttftMs: 800, tps: 100, defaultTokens: 5 },
      { upstreamSlots: 4, streamKeepAliveMs: 150 },
    );
    try {
      const s = await timedStream(`${slow.gw.url}/v1/chat/completions`, {
        model: 'tinyllama',
        stream: true,
        messages: [{ role: 'user', content: `slow ${Math.random()}` }],
      });
      expect(s.status).toBe(200);
      expect(s.headersAt).toBeLessThan(600); // after one keep-alive interval, not the 800 ms
      const firstData = s.pieces.findIndex((p) => p.text.includes('data:'));
      const before = s.pieces
        .slice(0, firstData)
        .map((p) => p.text)
        .join('');
      expect(before.match(/: keep-alive\n\n/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
      expect(s.body.trimEnd().endsWith('data: [DONE]')).toBe(true);
      await expectNoTickets(slow);
    } finally {
      await slow.close();
    }
  });
});
