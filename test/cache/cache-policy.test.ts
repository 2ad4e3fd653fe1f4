import { describe, expect, it } from 'vitest';
import { decideCaching } from '../../src/cache/policy.js';
import { chatReq } from './helpers.js';

describe('cache policy (the one decision)', () => {
  const hot = chatReq('x', { options: { temperature: 0.7 } });
  const cold = chatReq('x', { options: { temperature: 0 } });
  const seeded = chatReq('x', { options: { temperature: 0.7, seed: 7 } });

  it('mode all caches everything cacheable; off caches nothing', () => {
    expect(decideCaching(hot, {}, 'all')).toMatchObject({ lookup: true, store: true });
    expect(decideCaching(cold, {}, 'off')).toMatchObject({ lookup: false, store: false, reason: 'mode-off' });
  });

  it('mode deterministic caches only temperature 0 or a fixed seed', () => {
    expect(decideCaching(hot, {}, 'deterministic')).toMatchObject({ lookup: false, store: false });
    expect(decideCaching(cold, {}, 'deterministic').lookup).toBe(true);
    expect(decideCaching(seeded, {}, 'deterministic').lookup).toBe(true);
    expect(decideCaching(chatReq('x', { options: {} }), {}, 'deterministic').lookup).toBe(false);
  });

  it('use_cache:false and Cache-Control no-store bypass both ways', () => {
    expect(decideCaching({ ...cold, cache: { use: false } }, {}, 'all')).toMatchObject({
      lookup: false,
      store: false,
      reason: 'opt-out',
    });
    expect(decideCaching(cold, { cacheControl: 'No-Store' }, 'all')).toMatchObject({
      lookup: false,
      store: false,
    });
  });

  it('Cache-Control no-cache (or max-age=0) skips the lookup but refreshes the entry', () => {
    expect(decideCaching(cold, { cacheControl: 'no-cache' }, 'all')).toMatchObject({
      lookup: false,
      store: true,
    });
    expect(decideCaching(cold, { cacheControl: 'private, max-age=0' }, 'all')).toMatchObject({
      lookup: false,
      store: true,
    });
    expect(decideCaching(cold, { cacheControl: 'max-age=60' }, 'all')).toMatchObject({
      lookup: true,
      store: true,
    });
  });
});
