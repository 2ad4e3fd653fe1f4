import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import { countWords } from '../../src/sim/text.js';
import type { SimHandle } from '../../src/sim/types.js';
import { json, ndjson, post, words } from './helpers.js';

let sim: SimHandle;
let other: SimHandle;
let reseeded: SimHandle;
beforeAll(async () => {
  sim = await startSimulator({ seed: 7, defaultTokens: 20 });
  other = await startSimulator({ seed: 7, defaultTokens: 20 });
  reseeded = await startSimulator({ seed: 8, defaultTokens: 20 });
});
afterAll(async () => {
  await Promise.all([sim.close(), other.close(), reseeded.close()]);
});

interface OllamaChat {
  message: { content: string };
  done_reason: string;
  eval_count: number;
  prompt_eval_count: number;
}

async function chat(
  h: SimHandle,
  content: string,
  options: Record<string, unknown> = {},
): Promise<OllamaChat> {
  return json<OllamaChat>(
    await post(`${h.url}/api/chat`, {
      model: 'llama3.2',
      stream: false,
      messages: [{ role: 'user', content }],
      options,
    }),
  );
}

describe('deterministic text', () => {
  it('is a function of (sim seed, model, messages, request seed)', async () => {
    const a = await chat(sim, 'tell me a story');
    expect((await chat(sim, 'tell me a story')).message.content).toBe(a.message.content);
    expect((await chat(other, 'tell me a story')).message.content).toBe(a.message.content);
    expect((await chat(reseeded, 'tell me a story')).message.content).not.toBe(a.message.content);
    expect((await chat(sim, 'tell me a joke')).message.content).not.toBe(a.message.content);
    const s1 = await chat(sim, 'tell me a story', { seed: 1 });
    expect(s1.message.content).not.toBe(a.message.content);
    expect((await chat(sim, 'tell me a story', { seed: 1 })).message.content).toBe(s1.message.content);
    // Temperature is accepted but does not change the text.
    expect((await chat(sim, 'tell me a story', { temperature: 1.5 })).message.content).toBe(
      a.message.content,
    );
  });

  it('the same conversation gives the same text on /api/chat and /v1/chat/completions, streamed or not', async () => {
    const a = await chat(sim, 'same text please', { seed: 3 });
    const o = json<{ choices: { message: { content: string } }[] }>(
      await post(`${sim.url}/v1/chat/completions`, {
        model: 'llama3.2:latest',
        seed: 3,
        messages: [{ role: 'user', content: 'same text please' }],
      }),
    );
    expect(o.choices[0]?.message.content).toBe(a.message.content);
    const lines = ndjson(
      (
        await post(`${sim.url}/api/chat`, {
          model: 'llama3.2',
          options: { seed: 3 },
          messages: [{ role: 'user', content: 'same text please' }],
        })
      ).text,
    );
    expect(lines.map((l) => (l.message as { content: string }).content).join('')).toBe(a.message.content);
  });
});

describe('token counts', () => {
  it('prompt tokens = whitespace-separated words over all messages', async () => {
    const b = json<OllamaChat>(
      await post(`${sim.url}/api/chat`, {
        model: 'llama3.2',
        stream: false,
        messages: [
          { role: 'system', content: '  You are\ta helpful   assistant. ' },
          { role: 'user', content: 'Hi!' },
          { role: 'assistant', content: '' },
          { role: 'user', content: 'What is 2 + 2?' },
        ],
      }),
    );
    expect(b.prompt_eval_count).toBe(5 + 1 + 0 + 5);
    expect(countWords(' a\n\nb\u00a0c ')).toBe(3);
  });

  it('completion tokens = words of the output text', async () => {
    const b = await chat(sim, 'count me');
    expect(b.eval_count).toBe(20);
    expect(words(b.message.content)).toBe(20);
  });
});

describe('length vs stop', () => {
  it('done_reason is length only when the limit cuts the default length', async () => {
    expect(await chat(sim, 'x', { num_predict: 19 })).toMatchObject({
      done_reason: 'length',
      eval_count: 19,
    });
    expect(await chat(sim, 'x', { num_predict: 20 })).toMatchObject({ done_reason: 'stop', eval_count: 20 });
    expect(await chat(sim, 'x', { num_predict: 500 })).toMatchObject({ done_reason: 'stop', eval_count: 20 });
    expect(await chat(sim, 'x', { num_predict: -1 })).toMatchObject({ done_reason: 'stop', eval_count: 20 });
    const limited = await chat(sim, 'x', { num_predict: 4 });
    const full = await chat(sim, 'x');
    expect(full.message.content.startsWith(limited.message.content)).toBe(true);
  });

  it('a stop sequence cuts the text before it (done_reason stop, counts follow the text)', async () => {
    const full = (await chat(sim, 'stop test')).message.content;
    const fifth = full.split(' ')[4] ?? '';
    const cut = await chat(sim, 'stop test', { stop: [' ' + fifth, 'zzz-not-there'] });
    const expected = full.slice(0, full.indexOf(' ' + fifth));
    expect(cut.message.content).toBe(expected);
    expect(cut).toMatchObject({ done_reason: 'stop', eval_count: words(expected) });
    // A stop inside a word keeps the partial word as the last token.
    const third = full.split(' ')[2] ?? '';
    const mid = await chat(sim, 'stop test', { stop: [third.slice(1)] });
    expect(mid.message.content).toBe(full.slice(0, full.indexOf(third.slice(1))));
    expect(mid.eval_count).toBe(words(mid.message.content));
    // OpenAI surface: stop as a plain string.
    const o = json<{
      choices: { message: { content: string }; finish_reason: string }[];
      usage: { completion_tokens: number };
    }>(
      await post(`${sim.url}/v1/chat/completions`, {
        model: 'llama3.2',
        stop: ' ' + fifth,
        messages: [{ role: 'user', content: 'stop test' }],
      }),
    );
    expect(o.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: expected } });
    expect(o.usage.completion_tokens).toBe(words(expected));
  });

  it('streams stop at the stop sequence too', async () => {
    const full = (await chat(sim, 'stream stop')).message.content;
    const word = full.split(' ')[3] ?? '';
    const lines = ndjson(
      (
        await post(`${sim.url}/api/chat`, {
          model: 'llama3.2',
          messages: [{ role: 'user', content: 'stream stop' }],
          options: { stop: [' ' + word] },
        })
      ).text,
    );
    const text = lines.map((l) => (l.message as { content: string }).content).join('');
    expect(text).toBe(full.slice(0, full.indexOf(' ' + word)));
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop', eval_count: lines.length - 1 });
  });
});
