import { randomBytes } from 'node:crypto';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';

/**
 * Issue 22 item 2 with the unmodified official clients: images reach both upstream kinds from both
 * surfaces (the simulator's answer depends on the picture), generation routes take photo-sized
 * bodies while other routes keep the small limit, 413 says which limit, and cache keys tell
 * images apart.
 */

// A real 1×1 PNG, and a 3 MiB "photo" (over the 1 MiB default limit of non-generation routes).
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PHOTO = randomBytes(3 * 1024 * 1024).toString('base64');

describe.each(['ollama', 'openai'] as const)('images over a %s upstream', (kind) => {
  let s: Stack;
  let openai: OpenAI;
  let ollama: Ollama;
  beforeAll(async () => {
    s = await startStack({ kind });
    openai = new OpenAI({ baseURL: `${s.gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    ollama = new Ollama({ host: s.gw.url });
  });
  afterAll(async () => {
    await s.close();
  });

  const viaOpenAI = async (image?: string) => {
    const content: OpenAI.Chat.ChatCompletionContentPart[] = [{ type: 'text', text: 'describe this' }];
    if (image) content.push({ type: 'image_url', image_url: { url: `data:image/png;base64,${image}` } });
    const r = await openai.chat.completions.create({
      model: 'tinyllama',
      temperature: 0,
      messages: [{ role: 'user', content }],
    });
    return r.choices[0]?.message.content;
  };
  const viaOllama = async (image?: string) => {
    const r = await ollama.chat({
      model: 'tinyllama',
      options: { temperature: 0 },
      messages: [{ role: 'user', content: 'describe this', ...(image ? { images: [image] } : {}) }],
    });
    return r.message.content;
  };

  it('openai client: an image_url part reaches the model (the answer depends on the picture)', async () => {
    const none = await viaOpenAI();
    const png = await viaOpenAI(PNG);
    const photo = await viaOpenAI(PHOTO);
    expect(new Set([none, png, photo]).size).toBe(3);
    expect(await viaOpenAI(PNG)).toBe(png);
  });

  it('ollama client: images reach the model, and the same picture means the same answer on both surfaces', async () => {
    const none = await viaOllama();
    const png = await viaOllama(PNG);
    const photo = await viaOllama(PHOTO);
    expect(new Set([none, png, photo]).size).toBe(3);
    expect(png).toBe(await viaOpenAI(PNG));
  });

  it('cache keys tell images apart: a different picture is a miss, the same one a hit', async () => {
    const ask = (image: string) =>
      postJson(`${s.gw.url}/api/chat`, {
        model: 'tinyllama',
        stream: false,
        options: { temperature: 0 },
        messages: [{ role: 'user', content: 'key check', images: [image] }],
      });
    const a = await ask(PNG);
    const b = await ask(PHOTO);
    const c = await ask(PHOTO);
    expect([a, b, c].map((r) => r.headers.get('x-sutazai-cache'))).toEqual(['miss', 'miss', 'hit-l1']);
  });
});

describe('body limits', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ gateway: { llmBodyLimit: 256 * 1024 } });
  });
  afterAll(async () => {
    await s.close();
  });
  const big = randomBytes(300 * 1024).toString('base64');

  it('a generation route over its limit: 413 in its own envelope, naming the limit', async () => {
    const o = await postJson(`${s.gw.url}/api/chat`, {
      model: 'tinyllama',
      messages: [{ role: 'user', content: 'x', images: [big] }],
    });
    expect(o.status).toBe(413);
    expect(o.json).toEqual({ error: expect.stringMatching(/at most 262144 on POST \/api\/chat/) as unknown });
    const v = await postJson(`${s.gw.url}/v1/chat/completions`, {
      model: 'tinyllama',
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${big}` } }],
        },
      ],
    });
    expect(v.status).toBe(413);
    expect(v.json.error).toMatchObject({ code: 'SUTAZAI_ERR_BODY_TOO_LARGE' });
    expect(String(v.json.error?.message)).toMatch(/at most 262144/);
  });

  it('other routes keep the small limit (SUTAZAI_BODY_LIMIT, 1 MiB)', async () => {
    const r = await postJson(`${s.gw.url}/api/embed`, {
      model: 'nomic-embed-text',
      input: 'x'.repeat(1_100_000),
    });
    expect(r.status).toBe(413);
    expect(r.json).toEqual({
      error: expect.stringMatching(/at most 1048576 on POST \/api\/embed/) as unknown,
    });
  });

  it('a generation body under its own limit is answered', async () => {
    const ok = await postJson(`${s.gw.url}/api/chat`, {
      model: 'tinyllama',
      stream: false,
      messages: [{ role: 'user', content: 'x', images: [randomBytes(150 * 1024).toString('base64')] }],
    });
    expect(ok.status, ok.text).toBe(200);
  });
});
