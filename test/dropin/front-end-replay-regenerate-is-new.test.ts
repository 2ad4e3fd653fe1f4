import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';

/**
 * Issue 22: the calls a chat front end (Open WebUI-like) makes against an "Ollama" URL, replayed in
 * order against the gateway with its default settings: start-up (version, tags, ps, show), a
 * streamed chat with a photo, then "regenerate" (the same request again), which must give a new
 * answer — with a sampling upstream, as a real model samples.
 */

const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

interface Line {
  message?: { content: string };
  done: boolean;
  done_reason?: string;
  eval_count?: number;
}

async function call(url: string, method: 'GET' | 'POST', body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { res, text: await res.text() };
}

describe.each(['ollama', 'openai'] as const)('a chat front end in front of a %s upstream', (kind) => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ kind, sim: { sampling: true, tps: 500 } });
  });
  afterAll(async () => {
    await s.close();
  });

  it('start-up, a streamed chat with an image, and regenerate with a new answer', async () => {
    const base = s.gw.url;
    // Start-up: version gate, model picker, running models, model details.
    const version = await call(`${base}/api/version`, 'GET');
    expect(version.res.status).toBe(200);
    expect(JSON.parse(version.text)).toEqual({
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/) as unknown,
    });
    const tags = JSON.parse((await call(`${base}/api/tags`, 'GET')).text) as { models: { name: string }[] };
    const model = tags.models.find((m) => m.name.startsWith('llama3.2'))?.name;
    expect(model).toBeDefined();
    const ps = await call(`${base}/api/ps`, 'GET');
    expect(ps.res.status).toBe(200);
    expect(Array.isArray((JSON.parse(ps.text) as { models: unknown }).models)).toBe(true);
    const show = await call(`${base}/api/show`, 'POST', { model });
    expect(show.res.status).toBe(200);
    expect(JSON.parse(show.text)).toHaveProperty('details');

    // A chat with a photo, streamed, with the options a front end sends by default (none).
    const chat = {
      model,
      stream: true,
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'What is in this picture?', images: [PNG] },
      ],
    };
    const answer = async (): Promise<{ text: string; cache: string | null }> => {
      const r = await call(`${base}/api/chat`, 'POST', chat);
      expect(r.res.status, r.text).toBe(200);
      expect(r.res.headers.get('content-type')).toMatch(/ndjson/);
      const lines = r.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Line);
      expect(lines.length).toBeGreaterThan(2);
      expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop' });
      return {
        text: lines.map((l) => l.message?.content ?? '').join(''),
        cache: r.res.headers.get('x-sutazai-cache'),
      };
    };
    const first = await answer();
    const regenerated = await answer();
    expect(first.text.length).toBeGreaterThan(0);
    expect(regenerated.text).not.toBe(first.text);
    expect(regenerated.cache).toBe('bypass');

    // Following up on the conversation still works, and is not a replay either.
    const followUp = await call(`${base}/api/chat`, 'POST', {
      ...chat,
      stream: false,
      messages: [
        ...chat.messages,
        { role: 'assistant', content: regenerated.text },
        { role: 'user', content: 'More detail?' },
      ],
    });
    expect(followUp.res.status).toBe(200);
    expect((JSON.parse(followUp.text) as Line).message?.content).toBeTruthy();
  });
});
