import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/cache/memory-store.js';

const sized = (bytes: number) => ({ bytes });

describe('memory store (L1)', () => {
  it('never returns an entry past its own TTL, and reports the remaining TTL', async () => {
    let t = 1000; // lru-cache treats a start time of 0 as "no TTL"
    const s = createMemoryStore<{ bytes: number }>({
      maxBytes: 10_000,
      sizeOf: (v) => v.bytes,
      now: () => t,
    });
    await s.set('short', sized(10), 80);
    await s.set('long', sized(10), 60_000);
    const first = await s.get('short');
    expect(first?.ttlMs).toBeGreaterThan(0);
    expect(first?.ttlMs).toBe(80);
    t += 79;
    expect((await s.get('short'))?.ttlMs).toBe(1);
    t += 2;
    expect(await s.get('short')).toBeUndefined();
    expect((await s.get('long'))?.ttlMs).toBe(60_000 - 81);
    expect(s.stats()).toMatchObject({ hits: 3, misses: 1, entries: 1 });
  });

  it('stays within its byte bound, evicting least recently used entries and counting them', async () => {
    const s = createMemoryStore<{ bytes: number }>({ maxBytes: 1000, sizeOf: (v) => v.bytes });
    for (let i = 0; i < 10; i++) await s.set(`k${i}`, sized(195), 60_000); // 200 bytes with the key
    const st = s.stats();
    expect(st.bytes).toBeLessThanOrEqual(1000);
    expect(st.entries).toBe(5);
    expect(st.evictions).toBe(5);
    expect(await s.get('k0')).toBeUndefined();
    expect(await s.get('k9')).toBeDefined();
  });

  it('deletes by prefix and pattern only what matches', async () => {
    const s = createMemoryStore<{ bytes: number }>({ maxBytes: 10_000, sizeOf: (v) => v.bytes });
    await s.set('p:r:chat:tinyllama:aa', sized(1), 60_000);
    await s.set('p:r:chat:llama3.2:bb', sized(1), 60_000);
    await s.set('other:r:chat:tinyllama:cc', sized(1), 60_000);
    expect(await s.deleteByPattern('p:r:', 'tinyllama')).toBe(1);
    expect(await s.get('p:r:chat:llama3.2:bb')).toBeDefined();
    expect(await s.get('other:r:chat:tinyllama:cc')).toBeDefined();
    expect(await s.deleteByPattern('p:r:')).toBe(1);
  });

  it('rejects a non-positive byte bound at construction', () => {
    expect(() => createMemoryStore({ maxBytes: 0, sizeOf: () => 1 })).toThrow(/maxBytes/);
  });
});
