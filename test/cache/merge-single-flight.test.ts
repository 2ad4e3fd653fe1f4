import { describe, expect, it } from 'vitest';
import { createMerger, type FlightSource } from '../../src/cache/stream-merger.js';
import type { CancelSignal } from '../../src/pipeline/cancel.js';
import type { Chunk } from '../../src/pipeline/types.js';
import { drain, textChunks } from './helpers.js';

/** A hand-driven upstream: push chunks, end or fail it, see whether it was aborted. */
function controllable() {
  const queue: Chunk[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: Error | undefined;
  let signal: CancelSignal | undefined;
  let calls = 0;
  let reads = 0;
  let closed = false;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  async function* gen(): AsyncGenerator<Chunk> {
    try {
      for (;;) {
        const c = queue.shift();
        if (c) {
          reads++;
          yield c;
          continue;
        }
        if (failure) throw failure;
        if (ended) return;
        if (signal?.aborted) throw new Error('aborted upstream');
        await new Promise<void>((r) => (wake = r));
      }
    } finally {
      closed = true;
    }
  }
  return {
    start: async (s: CancelSignal): Promise<FlightSource> => {
      calls++;
      signal = s;
      s.addEventListener('abort', poke);
      return { chunks: gen(), model: 'm', upstream: 'u' };
    },
    push: (...c: Chunk[]) => {
      queue.push(...c);
      poke();
    },
    end: () => {
      ended = true;
      poke();
    },
    fail: (e: Error) => {
      failure = e;
      poke();
    },
    get calls() {
      return calls;
    },
    get aborted() {
      return signal?.aborted ?? false;
    },
    /** Chunks taken from the upstream so far. */
    get reads() {
      return reads;
    },
    /** The upstream's stream was closed (ended, failed or returned). */
    get closed() {
      return closed;
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('single-flight merge', () => {
  it('N concurrent joins → one upstream call; every subscriber gets every chunk', async () => {
    const m = createMerger();
    const up = controllable();
    const all = textChunks(['a', 'b', 'c']);
    const subs = await Promise.all(
      Array.from({ length: 50 }, () =>
        m.join('k', { signal: new AbortController().signal, start: up.start }),
      ),
    );
    expect(up.calls).toBe(1);
    expect(subs.filter((s) => s.leader)).toHaveLength(1);
    up.push(...all);
    up.end();
    const results = await Promise.all(subs.map((s) => drain(s.chunks)));
    for (const r of results) expect(r).toEqual(all);
    expect(m.stats()).toMatchObject({ flights: 1, merged: 49, inFlight: 0 });
  });

  it('a late joiner replays the chunks produced so far, then follows live', async () => {
    const m = createMerger();
    const up = controllable();
    const first = await m.join('k', { signal: new AbortController().signal, start: up.start });
    up.push({ type: 'delta', text: 'a' }, { type: 'delta', text: 'b' });
    await tick();
    const late = await m.join('k', { signal: new AbortController().signal, start: up.start });
    expect(late.leader).toBe(false);
    up.push({ type: 'delta', text: 'c' }, ...textChunks([]));
    up.end();
    const [x, y] = await Promise.all([drain(first.chunks), drain(late.chunks)]);
    expect(y).toEqual(x);
    expect(y.map((c) => (c.type === 'delta' ? c.text : c.type))).toEqual(['a', 'b', 'c', 'done']);
  });

  it('the first caller leaving does not abort the call for the others; the last one leaving does', async () => {
    const m = createMerger();
    const up = controllable();
    const a = new AbortController();
    const b = new AbortController();
    const subA = await m.join('k', { signal: a.signal, start: up.start });
    const subB = await m.join('k', { signal: b.signal, start: up.start });
    up.push({ type: 'delta', text: 'x' });
    a.abort(new Error('client A went away'));
    await expect(drain(subA.chunks)).rejects.toThrow('client A went away');
    expect(up.aborted).toBe(false);
    up.push(...textChunks(['y']));
    up.end();
    expect((await drain(subB.chunks)).length).toBe(3);

    const up2 = controllable();
    const c = new AbortController();
    const subC = await m.join('k2', { signal: c.signal, start: up2.start });
    up2.push({ type: 'delta', text: 'x' });
    const it = subC.chunks[Symbol.asyncIterator]();
    await it.next();
    await it.return?.();
    expect(up2.aborted).toBe(true);
    expect(up2.closed).toBe(true); // its taps end (metrics count the call as aborted)
    expect(m.has('k2')).toBe(false);
    expect(m.stats().abandoned).toBe(1);
  });

  it('an error before the first chunk reaches every joiner; a mid-stream error every subscriber', async () => {
    const m = createMerger();
    const boom = new Error('upstream down');
    let calls = 0;
    const failing = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      throw boom;
    };
    const joins = Array.from({ length: 5 }, () =>
      m.join('k', { signal: new AbortController().signal, start: failing }),
    );
    const settled = await Promise.allSettled(joins);
    expect(calls).toBe(1);
    for (const s of settled) expect(s).toMatchObject({ status: 'rejected', reason: boom });

    const up = controllable();
    const s1 = await m.join('k', { signal: new AbortController().signal, start: up.start });
    const s2 = await m.join('k', { signal: new AbortController().signal, start: up.start });
    up.push({ type: 'delta', text: 'a' });
    up.fail(new Error('mid-stream'));
    await expect(drain(s1.chunks)).rejects.toThrow('mid-stream');
    await expect(drain(s2.chunks)).rejects.toThrow('mid-stream');
    expect(m.has('k')).toBe(false);
  });

  it('onComplete gets the whole stream once; the flight ends (for its readers too) only when it settles', async () => {
    const m = createMerger();
    const up = controllable();
    let release!: () => void;
    const written: Chunk[][] = [];
    const onComplete = (chunks: readonly Chunk[]) => {
      written.push([...chunks]);
      return new Promise<void>((r) => (release = r));
    };
    const s = await m.join('k', { signal: new AbortController().signal, start: up.start, onComplete });
    up.push(...textChunks(['a']));
    up.end();
    let ended = false;
    const drained = drain(s.chunks).then((c) => {
      ended = true;
      return c;
    });
    await tick();
    expect(written).toHaveLength(1);
    // The answer is being written: the reader has every chunk but not the end yet, so its response
    // cannot finish before a repeat could read the answer from the cache.
    expect(ended).toBe(false);
    expect(m.has('k')).toBe(true);
    const late = await m.join('k', { signal: new AbortController().signal, start: up.start });
    const lateDrained = drain(late.chunks);
    release();
    expect(await drained).toEqual(written[0]);
    expect(await lateDrained).toEqual(written[0]);
    expect(m.has('k')).toBe(false);
    expect(up.calls).toBe(1);
    expect(up.reads).toBe(2); // one chunk and the end: nobody read past it while the write ran
  });

  it('the upstream is read on demand: a slow lone reader holds it back instead of buffering it', async () => {
    const m = createMerger();
    const up = controllable();
    const s = await m.join('k', { signal: new AbortController().signal, start: up.start });
    up.push(...textChunks(['a', 'b', 'c', 'd']));
    await tick();
    expect(up.reads).toBe(0);
    const it = s.chunks[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ done: false, value: { type: 'delta', text: 'a' } });
    await tick();
    expect(up.reads).toBe(1);
    up.end();
    expect((await drain(it)).length).toBe(4);
    expect(up.reads).toBe(5);
    expect(up.closed).toBe(true);
  });

  it('a joiner arriving while the lone reader waits for the upstream gets the same chunks', async () => {
    const m = createMerger();
    const up = controllable();
    const first = await m.join('k', { signal: new AbortController().signal, start: up.start });
    const a = first.chunks[Symbol.asyncIterator]();
    const pending = a.next(); // waits on the upstream: nothing has arrived yet
    const late = await m.join('k', { signal: new AbortController().signal, start: up.start });
    const b = late.chunks[Symbol.asyncIterator]();
    const lateFirst = b.next();
    up.push({ type: 'delta', text: 'x' });
    expect(await pending).toEqual({ done: false, value: { type: 'delta', text: 'x' } });
    expect(await lateFirst).toEqual({ done: false, value: { type: 'delta', text: 'x' } });
    up.push(...textChunks(['y']));
    up.end();
    const [restA, restB] = await Promise.all([drain(a), drain(b)]);
    expect(restB).toEqual(restA);
    expect(restA.map((c) => c.type)).toEqual(['delta', 'done']);
    expect(up.calls).toBe(1);
    expect(up.reads).toBe(3);
  });

  it('a subscriber leaving while the others wait for the upstream does not stall them', async () => {
    const m = createMerger();
    const up = controllable();
    const ac = new AbortController();
    const s1 = await m.join('k', { signal: ac.signal, start: up.start });
    const s2 = await m.join('k', { signal: new AbortController().signal, start: up.start });
    const one = s1.chunks[Symbol.asyncIterator]().next();
    const two = s2.chunks[Symbol.asyncIterator]().next();
    ac.abort(new Error('client 1 went away'));
    await expect(one).rejects.toThrow('client 1 went away');
    up.push({ type: 'delta', text: 'z' });
    expect(await two).toEqual({ done: false, value: { type: 'delta', text: 'z' } });
    expect(up.aborted).toBe(false);
  });
});
