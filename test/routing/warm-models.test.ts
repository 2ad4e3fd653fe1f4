import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/http.js';
import { startFleet, type Fleet } from './fleet.js';

const FOREVER_YEAR = '2318';

describe('warm models', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('are preloaded at start where listed, kept resident, and pinned again after a client shortens keep_alive', async () => {
    fleet = await startFleet(
      [
        { sim: { models: ['llama3.2', 'qwen2.5:0.5b'], loaded: [] }, options: ';warm=qwen2.5:0.5b' },
        // Does not list llama3.2: nothing is preloaded there.
        { sim: { models: ['qwen2.5:0.5b'], loaded: [] } },
      ],
      { warmModels: ['llama3.2'] },
    );
    const f = fleet;
    const residentOn0 = async () =>
      ((await f.agents())[0]?.loaded_models ?? [])
        .filter((m) => m.expires_at?.startsWith(FOREVER_YEAR))
        .map((m) => m.name)
        .sort();
    await waitFor(async () => (await residentOn0()).length === 2, 5000, 'warm models resident');
    expect(await residentOn0()).toEqual(['llama3.2:latest', 'qwen2.5:0.5b']);
    expect(f.sims[1]!.stats().requests['/api/generate']).toBeUndefined();

    // A client's own keep_alive replaces ours; the keeper pins the model again.
    const r = await f.chat('llama3.2', 'hello', { keep_alive: '10s' });
    expect(r.status).toBe(200);
    expect(f.sims[0]!.stats().requests['/api/chat']).toBe(1);
    const preloads = () => f.sims[0]!.stats().requests['/api/generate'] ?? 0;
    expect(preloads()).toBe(2);
    await waitFor(() => preloads() === 3, 3000, 'pinned again');
    await waitFor(async () => (await residentOn0()).length === 2, 3000, 'resident again');
    // Resident models are not loaded again and again.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(preloads()).toBe(3);
  });
});
