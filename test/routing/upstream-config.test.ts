import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, publicSettings } from '../../src/config/config.js';

describe('upstream capacity in config', () => {
  it('reads slots, weight, models, warm and id from a list entry; defaults from settings', () => {
    const c = loadConfig({
      env: {
        SUTAZAI_UPSTREAMS:
          'ollama=http://gpu1:11434;slots=2;weight=3;models=llama3.2|qwen2:7b;warm=llama3.2;id=gpu1,openai=http://gpu2:8080/v1',
        SUTAZAI_UPSTREAM_SLOTS: '6',
        SUTAZAI_TTFT_TIMEOUT_MS: '9000',
      },
    });
    expect(c.upstreams[0]).toMatchObject({
      id: 'gpu1',
      kind: 'ollama',
      url: 'http://gpu1:11434',
      slots: 2,
      weight: 3,
      models: ['llama3.2', 'qwen2:7b'],
      warm: ['llama3.2'],
    });
    expect(c.upstreams[1]).toMatchObject({ id: 'openai@gpu2:8080', slots: 6, weight: 1 });
    expect(c.upstreams[1]?.models).toBeUndefined();
    expect(c.upstreams[0]?.timeouts).toEqual({ connectMs: 5000, ttftMs: 9000, idleMs: 30000, totalMs: 0 });
    expect(publicSettings(c).upstreams).toEqual([
      expect.objectContaining({ id: 'gpu1', slots: 2, weight: 3, models: ['llama3.2', 'qwen2:7b'] }),
      expect.objectContaining({ id: 'openai@gpu2:8080', slots: 6 }),
    ]);
  });

  it('adds the upstreams of a JSON file, and SUTAZAI_WARM_MODELS to every upstream', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sutazai-ups-'));
    const file = join(dir, 'upstreams.json');
    writeFileSync(
      file,
      JSON.stringify({
        upstreams: [
          { kind: 'ollama', url: 'http://a:11434', slots: 1, models: ['tinyllama'] },
          { kind: 'openai', url: 'http://b:8000/v1', id: 'vllm', weight: 2, apiKey: 'k' },
        ],
      }),
    );
    const c = loadConfig({
      env: { SUTAZAI_UPSTREAMS: 'ollama=http://c:11434', SUTAZAI_WARM_MODELS: 'llama3.2' },
      argv: ['--upstreams-file', file],
    });
    expect(c.upstreams.map((u) => [u.id, u.slots, u.weight, u.warm])).toEqual([
      ['ollama@c:11434', 4, 1, ['llama3.2']],
      ['ollama@a:11434', 1, 1, ['llama3.2']],
      ['vllm', 4, 2, ['llama3.2']],
    ]);
    expect(c.upstreams[2]?.apiKey).toBe('k');
  });

  it('names every bad option and file entry at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sutazai-ups-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify([{ kind: 'ollama', url: 'http://a', slots: 0 }]));
    let message = '';
    try {
      loadConfig({
        env: {
          SUTAZAI_UPSTREAMS:
            'ollama=http://x;slots=zero;colour=red,ollama=http://y;id=a,ollama=http://z;id=a',
        },
        argv: ['--upstreams-file', file],
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/slots must be an integer/);
    expect(message).toMatch(/unknown option "colour"/);
    expect(message).toMatch(/duplicate id "a"/);
    expect(message).toMatch(/bad\.json": upstreams\.0\.slots/);
    expect(() => loadConfig({ env: {}, argv: ['--upstreams-file', join(dir, 'missing.json')] })).toThrow(
      /missing\.json.*ENOENT/,
    );
  });
});
