import { describe, expect, it } from 'vitest';
import { cacheKey } from '../../src/cache/keys.js';
import type { ChatRequest, EmbedRequest, GenerateRequest } from '../../src/pipeline/types.js';
import { chatReq } from './helpers.js';

const P = 'sutazai:';

describe('cache keys', () => {
  it('ignore key order, stream flag, priority, keep-alive, cache directive and runner-only options', () => {
    const a = chatReq('hi', { options: { temperature: 0, topP: 0.9, extra: { num_thread: 4 } } });
    const b: ChatRequest = {
      priority: 'background',
      cache: { use: false },
      stream: true,
      keepAlive: '5m',
      options: { extra: { num_gpu: 1 }, topP: 0.9, temperature: 0 },
      messages: [{ content: 'hi', role: 'user', images: [] }],
      model: 'tinyllama',
      kind: 'chat',
    };
    expect(cacheKey(P, a)).toBe(cacheKey(P, b));
  });

  it('ignore tool-call ids and the order of stop sequences', () => {
    const withCall = (id: string, stop: string[]) =>
      chatReq('x', {
        options: { temperature: 0, stop },
        messages: [
          { role: 'assistant', content: '', toolCalls: [{ id, name: 'f', arguments: { b: 1, a: 2 } }] },
          { role: 'tool', content: '42', toolName: 'f', toolCallId: id },
        ],
      });
    expect(cacheKey(P, withCall('call_1', ['a', 'b']))).toBe(cacheKey(P, withCall('call_2', ['b', 'a'])));
  });

  it('change with everything that changes the answer', () => {
    const base = cacheKey(P, chatReq('hi'));
    const variants: ChatRequest[] = [
      chatReq('hi '),
      chatReq('hi', { model: 'llama3.2' }),
      chatReq('hi', { options: { temperature: 0.5 } }),
      chatReq('hi', { options: { temperature: 0, seed: 1 } }),
      chatReq('hi', { options: { temperature: 0, maxTokens: 10 } }),
      chatReq('hi', { options: { temperature: 0, extra: { mirostat: 1 } } }),
      chatReq('hi', { format: 'json' }),
      chatReq('hi', { tools: [{ name: 'f' }] }),
      chatReq('hi', {
        messages: [
          { role: 'system', content: 's' },
          { role: 'user', content: 'hi' },
        ],
      }),
    ];
    const keys = new Set(variants.map((v) => cacheKey(P, v)));
    expect(keys.size).toBe(variants.length);
    expect(keys.has(base)).toBe(false);
  });

  it('separate kinds, and carry kind and model in the readable part under the prefix', () => {
    const gen: GenerateRequest = {
      kind: 'generate',
      model: 'tinyllama',
      prompt: 'hi',
      system: 's',
      options: {},
      stream: false,
      priority: 'interactive',
      cache: { use: true },
    };
    const emb: EmbedRequest = {
      kind: 'embed',
      model: 'nomic',
      input: ['hi'],
      priority: 'interactive',
      cache: { use: true },
    };
    expect(cacheKey(P, gen)).toMatch(/^sutazai:r:generate:tinyllama:[0-9a-f]{64}$/);
    expect(cacheKey(P, emb)).toMatch(/^sutazai:r:embed:nomic:[0-9a-f]{64}$/);
    expect(cacheKey(P, gen)).not.toBe(cacheKey(P, { ...gen, system: 't' }));
  });

  it('stay the same across releases, so entries an earlier version wrote to Redis still hit', () => {
    // Computed by the build before the key code was rewritten for speed (commit cf9c2d7).
    const chat: ChatRequest = {
      kind: 'chat',
      model: 'tinyllama',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      options: { temperature: 0.7, maxTokens: 150, stop: ['b', 'a'], extra: { num_thread: 4, mirostat: 1 } },
      stream: false,
      priority: 'interactive',
      cache: { use: true },
    };
    expect(cacheKey(P, chat)).toBe(
      'sutazai:r:chat:tinyllama:122e4d9854519d800c2c58acf051a5c1374b50d2b7c8a45340687068751a0fcd',
    );
    const emb = { kind: 'embed', model: 'nomic', input: ['a', 'b'] } as EmbedRequest;
    expect(cacheKey(P, emb)).toBe(
      'sutazai:r:embed:nomic:47c43d13f705dec0124ccf962a73e3c1f4d3c2c5f322dd1a0e0593b02022a43e',
    );
  });
});
