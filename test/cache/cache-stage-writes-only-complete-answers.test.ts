import { describe, expect, it } from 'vitest';
import { createResponseCache } from '../../src/cache/service.js';
import type { EmbedOutcome, GenerationResult, RequestContext } from '../../src/pipeline/pipeline.js';
import type { Chunk, EmbedRequest } from '../../src/pipeline/types.js';
import { chatReq, ctxWith, drain, silentLogger, textChunks } from './helpers.js';

const config = {
  cacheMode: 'all' as const,
  cacheTtlS: 60,
  cacheMaxBytes: 1 << 20,
  cachePrefix: 'stage-test:',
  redisTimeoutMs: 50,
  redisUrl: undefined,
};

/** A fake rest-of-pipeline: counts calls, records the ctx it was given. */
function fakeNext(chunks: Chunk[] | (() => AsyncGenerator<Chunk>)) {
  const seen: RequestContext[] = [];
  const next = async (ctx?: RequestContext): Promise<GenerationResult> => {
    if (ctx) seen.push(ctx);
    const gen =
      typeof chunks === 'function'
        ? chunks()
        : (async function* () {
            for (const c of chunks) yield c;
          })();
    return { chunks: gen, model: 'tinyllama', upstream: 'sim', cache: 'bypass' };
  };
  return { next, seen };
}

describe('cache stage', () => {
  it('miss, then a hit on L1 that replays the same chunks; stream and non-stream share the entry', async () => {
    const cache = createResponseCache({ config, logger: silentLogger });
    const stage = cache.stage;
    const all = textChunks(['Hel', 'lo']);
    const up = fakeNext(all);
    const r1 = await stage.generate!(chatReq('hi'), ctxWith(), up.next);
    expect(r1.cache).toBe('miss');
    expect(await drain(r1.chunks)).toEqual(all);
    await cache.idle();
    const r2 = await stage.generate!(chatReq('hi', { stream: true }), ctxWith(), up.next);
    expect(r2.cache).toBe('hit-l1');
    expect(await drain(r2.chunks)).toEqual(all);
    expect(up.seen).toHaveLength(1);
    const st = await cache.stats();
    expect(st.requests).toMatchObject({ total: 2, hits: 1, misses: 1, hit_rate: 0.5 });
    expect(st.l1.entries).toBe(1);
    await cache.close();
  });

  it('never writes an errored, truncated or abandoned stream', async () => {
    const cache = createResponseCache({ config, logger: silentLogger });
    const errored = fakeNext(async function* () {
      yield { type: 'delta', text: 'a' };
      throw new Error('mid-stream');
    });
    const r1 = await cache.stage.generate!(chatReq('e'), ctxWith(), errored.next);
    await expect(drain(r1.chunks)).rejects.toThrow('mid-stream');

    const truncated = fakeNext([{ type: 'delta', text: 'a' }]);
    await drain((await cache.stage.generate!(chatReq('t'), ctxWith(), truncated.next)).chunks);

    const slow = fakeNext(async function* () {
      yield { type: 'delta', text: 'a' };
      await new Promise((r) => setTimeout(r, 20));
      yield* textChunks(['b']);
    });
    const r3 = await cache.stage.generate!(chatReq('s'), ctxWith(), slow.next);
    const it = r3.chunks[Symbol.asyncIterator]();
    await it.next();
    await it.return?.();

    await cache.idle();
    for (const q of ['e', 't', 's']) {
      const again = await cache.stage.generate!(chatReq(q), ctxWith(), fakeNext(textChunks(['x'])).next);
      expect(again.cache).toBe('miss');
      await drain(again.chunks);
    }
    expect((await cache.stats()).incomplete_not_written).toBe(1);
    await cache.close();
  });

  it('bypass: use_cache:false and no-store never read or write; no-cache refreshes the entry', async () => {
    const cache = createResponseCache({ config, logger: silentLogger });
    const up = fakeNext(textChunks(['v1']));
    await drain((await cache.stage.generate!(chatReq('b'), ctxWith(), up.next)).chunks);
    await cache.idle();

    const optOut = await cache.stage.generate!(chatReq('b', { cache: { use: false } }), ctxWith(), up.next);
    expect(optOut.cache).toBe('bypass');
    await drain(optOut.chunks);
    const noStore = await cache.stage.generate!(chatReq('b'), ctxWith(undefined, 'no-store'), up.next);
    expect(noStore.cache).toBe('bypass');
    await drain(noStore.chunks);

    const fresh = fakeNext(textChunks(['v2']));
    const refreshed = await cache.stage.generate!(chatReq('b'), ctxWith(undefined, 'no-cache'), fresh.next);
    expect(refreshed.cache).toBe('bypass');
    await drain(refreshed.chunks);
    await cache.idle();
    const hit = await cache.stage.generate!(chatReq('b'), ctxWith(), up.next);
    expect(hit.cache).toBe('hit-l1');
    expect((await drain(hit.chunks))[0]).toEqual({ type: 'delta', text: 'v2' });
    await cache.close();
  });

  it('concurrent identical requests: one next() call under the flight’s own signal; joiners are "merged"', async () => {
    const cache = createResponseCache({ config, logger: silentLogger });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const up = fakeNext(async function* () {
      yield { type: 'delta', text: 'a' };
      await gate;
      yield* textChunks(['b']);
    });
    const first = new AbortController();
    const results = await Promise.all([
      cache.stage.generate!(chatReq('m'), ctxWith(first.signal), up.next),
      ...Array.from({ length: 9 }, () => cache.stage.generate!(chatReq('m'), ctxWith(), up.next)),
    ]);
    expect(up.seen).toHaveLength(1);
    expect(up.seen[0]!.signal).not.toBe(first.signal);
    expect(results.map((r) => r.cache).sort()).toEqual(
      [...Array.from({ length: 9 }, () => 'merged'), 'miss'].sort(),
    );
    first.abort(new Error('first caller gone'));
    await expect(drain(results[0].chunks)).rejects.toThrow('first caller gone');
    expect(up.seen[0]!.signal.aborted).toBe(false);
    release();
    for (const r of results.slice(1)) expect(await drain(r.chunks)).toHaveLength(3);
    expect((await cache.stats()).merge).toMatchObject({ upstream_calls: 1, merged_requests: 9 });
    await cache.close();
  });

  it('embeddings: merged while in flight, then hits', async () => {
    const cache = createResponseCache({ config, logger: silentLogger });
    let calls = 0;
    const next = async (): Promise<EmbedOutcome> => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return {
        result: { model: 'nomic', embeddings: [[0.1, 0.2]], promptTokens: 1 },
        upstream: 'sim',
        cache: 'bypass',
      };
    };
    const req: EmbedRequest = {
      kind: 'embed',
      model: 'nomic',
      input: ['x'],
      priority: 'interactive',
      cache: { use: true },
    };
    const [a, b] = await Promise.all([
      cache.stage.embed!(req, ctxWith(), next),
      cache.stage.embed!(req, ctxWith(), next),
    ]);
    expect([a.cache, b.cache].sort()).toEqual(['merged', 'miss']);
    await cache.idle();
    const c = await cache.stage.embed!(req, ctxWith(), next);
    expect(c.cache).toBe('hit-l1');
    expect(c.result.embeddings).toEqual([[0.1, 0.2]]);
    expect(calls).toBe(1);
    await cache.close();
  });

  it('clear by pattern only removes matching entries of this gateway', async () => {
    const cache = createResponseCache({ config, logger: silentLogger });
    const up = fakeNext(textChunks(['x']));
    await drain((await cache.stage.generate!(chatReq('1'), ctxWith(), up.next)).chunks);
    await drain(
      (await cache.stage.generate!(chatReq('2', { model: 'llama3.2' }), ctxWith(), up.next)).chunks,
    );
    await cache.idle();
    expect(await cache.clear('llama3.2')).toEqual({ deleted: 1, tiers: { l1: 1, l2: null } });
    expect((await cache.stage.generate!(chatReq('1'), ctxWith(), up.next)).cache).toBe('hit-l1');
    expect(cache.health()).toEqual({ status: 'healthy', l2: 'disabled' });
    await cache.close();
  });
});
