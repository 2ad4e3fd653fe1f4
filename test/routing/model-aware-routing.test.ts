import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/http.js';
import { received, startFleet, type Fleet } from './fleet.js';

describe('model-aware routing', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('a request only goes to upstreams listing the model and allowed to serve it, even when busy', async () => {
    fleet = await startFleet([
      { sim: { models: ['llama3.2'], parallel: 1, tps: 100, defaultTokens: 20 }, options: ';slots=1' },
      // Lists both models but may serve only qwen: llama3.2 never goes there, however busy u0 is.
      { sim: { models: ['llama3.2', 'qwen2.5:0.5b'] }, options: ';slots=8;models=qwen2.5:0.5b' },
      { sim: { models: ['qwen2.5:0.5b'] } },
    ]);
    const f = fleet;
    const llama = await Promise.all(Array.from({ length: 6 }, (_, i) => f.chat('llama3.2', `l ${i}`)));
    const qwen = await Promise.all(Array.from({ length: 6 }, (_, i) => f.chat('qwen2.5:0.5b', `q ${i}`)));
    expect([...llama, ...qwen].map((r) => r.status)).toEqual(Array(12).fill(200));
    const [a, b, c] = received(f.sims);
    expect(a).toBe(6);
    expect(b! + c!).toBe(6);
    expect(b).toBeGreaterThan(0);
    expect(c).toBeGreaterThan(0);
    // Capacity counts only upstreams allowed to serve the model.
    expect(f.gw.services.router.capacity('llama3.2')).toBe(1);
    expect(f.gw.services.router.capacity('qwen2.5:0.5b')).toBe(12);
    expect(f.gw.services.router.capacity('missing')).toBe(0);
    // A model no upstream may serve is a 404, not a request to an upstream lacking it.
    const missing = await f.chat('mistral', 'nobody has it');
    expect(missing.status).toBe(404);
    expect(received(f.sims)).toEqual([6, b, c]);
  });

  it('prefers the upstream where the model is already loaded (Ollama /api/ps)', async () => {
    fleet = await startFleet([
      { sim: { models: ['llama3.2', 'qwen2.5:0.5b'], loaded: ['qwen2.5:0.5b'] } },
      { sim: { models: ['llama3.2', 'qwen2.5:0.5b'], loaded: ['llama3.2'] } },
    ]);
    const f = fleet;
    await waitFor(
      async () => (await f.agents()).every((a) => (a.loaded_models?.length ?? 0) > 0),
      3000,
      'loaded models probed',
    );
    const agents = await f.agents();
    expect(agents.map((a) => a.loaded_models?.map((m) => m.name))).toEqual([
      ['qwen2.5:0.5b'],
      ['llama3.2:latest'],
    ]);
    expect(agents[0]?.loaded_models?.[0]?.expires_at).toMatch(/^\d{4}-/);
    for (let i = 0; i < 4; i++) expect((await f.chat('llama3.2', `loaded ${i}`)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await f.chat('qwen2.5:0.5b', `loaded ${i}`)).status).toBe(200);
    expect(received(f.sims)).toEqual([4, 4]);
    expect(f.sims[0]?.stats().requests['/api/ps']).toBeGreaterThan(0);
  });
});
