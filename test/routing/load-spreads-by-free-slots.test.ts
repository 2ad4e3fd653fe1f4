import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/http.js';
import { received, startFleet, type Fleet } from './fleet.js';

/** Opens a streamed /api/chat and reads until its first line, leaving it streaming. */
async function openStream(url: string, ac: AbortController): Promise<void> {
  const res = await fetch(`${url}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'llama3.2',
      messages: [{ role: 'user', content: `hold ${Math.random()}` }],
    }),
    signal: ac.signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  await reader.read();
}

describe('routing spreads load by free slots', () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('4 concurrent streams on upstreams of 1 and 3 slots: 1 and 3 in flight, none queued upstream', async () => {
    // 200 tokens at 20 tokens/s: each answer streams for ~10 s, so all four are in flight together.
    fleet = await startFleet([
      { sim: { parallel: 1, tps: 20, defaultTokens: 200 }, options: ';slots=1' },
      { sim: { parallel: 3, tps: 20, defaultTokens: 200 }, options: ';slots=3' },
    ]);
    const { sims, gw } = fleet;
    const ac = new AbortController();
    try {
      for (let i = 0; i < 4; i++) await openStream(gw.url, ac);
      expect(sims.map((s) => s.stats().active)).toEqual([1, 3]);
      expect(sims.map((s) => s.stats().queued)).toEqual([0, 0]);
      const agents = await fleet.agents();
      expect(agents.map((a) => [a.slots, a.load])).toEqual([
        [1, 1],
        [3, 3],
      ]);
    } finally {
      ac.abort();
    }
  });

  it('a burst of 24 answers splits about 1:3 between 1 and 3 slots', async () => {
    fleet = await startFleet([
      { sim: { parallel: 1, tps: 200, defaultTokens: 20 }, options: ';slots=1' },
      { sim: { parallel: 3, tps: 200, defaultTokens: 20 }, options: ';slots=3' },
    ]);
    const f = fleet;
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => f.chat('llama3.2', `burst ${i}`)));
    expect(answers.map((a) => a.status)).toEqual(Array(24).fill(200));
    const [a, b] = received(f.sims);
    expect(a! + b!).toBe(24);
    // Proportional to slots: 6 and 18 ideally; the slower queue of the small one may take fewer.
    expect(a).toBeGreaterThanOrEqual(3);
    expect(a).toBeLessThanOrEqual(9);
  });

  it('weight breaks ties: equal slots, weight 3 vs 1 → the heavier one takes the single request', async () => {
    fleet = await startFleet([{ options: ';weight=1' }, { options: ';weight=3' }]);
    const f = fleet;
    await waitFor(async () => (await f.agents()).every((x) => x.status === 'healthy'), 3000, 'healthy');
    for (let i = 0; i < 5; i++) expect((await f.chat('llama3.2', `w ${i}`)).status).toBe(200);
    expect(received(f.sims)).toEqual([0, 5]);
  });
});
