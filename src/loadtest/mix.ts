import { REQUEST_KINDS, type Mix, type RequestKind } from './types.js';

/** The seed-like default: mostly repeated prompts (cache hits), some fresh, streaming and health. */
export const DEFAULT_MIX: Mix = Object.freeze({ repeat: 70, fresh: 10, stream: 10, health: 10, task: 0 });

/** Overhead: unique prompts only, so neither side can answer from a cache. */
export const OVERHEAD_MIX: Mix = Object.freeze({ repeat: 0, fresh: 100, stream: 0, health: 0, task: 0 });

/** Parse "repeat=70,fresh=20,stream=10" (unnamed kinds get 0). Throws with a readable message. */
export function parseMix(text: string): Mix {
  const mix: Record<RequestKind, number> = { repeat: 0, fresh: 0, stream: 0, health: 0, task: 0 };
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const m = /^([a-z]+)\s*[=:]\s*(\d+(?:\.\d+)?)$/.exec(part);
    const name = m?.[1] as RequestKind | undefined;
    if (m === null || name === undefined || !REQUEST_KINDS.includes(name)) {
      throw new Error(`--mix: "${part}" is not KIND=WEIGHT with KIND one of ${REQUEST_KINDS.join(', ')}`);
    }
    mix[name] = Number(m[2]);
  }
  if (REQUEST_KINDS.every((k) => mix[k] === 0)) throw new Error('--mix: at least one weight must be > 0');
  return Object.freeze(mix);
}

export function formatMix(mix: Mix): string {
  return REQUEST_KINDS.filter((k) => mix[k] > 0)
    .map((k) => `${k}=${mix[k]}`)
    .join(',');
}

/** The simulator's seeded PRNG (mulberry32), so a run's request sequence is reproducible. */
export { createRng } from '../sim/rng.js';

/** Picks a kind by weight. */
export function createPicker(mix: Mix, rng: () => number): () => RequestKind {
  const kinds = REQUEST_KINDS.filter((k) => mix[k] > 0);
  const total = kinds.reduce((s, k) => s + mix[k], 0);
  const cum: number[] = [];
  let acc = 0;
  for (const k of kinds) {
    acc += mix[k] / total;
    cum.push(acc);
  }
  return () => {
    const r = rng();
    for (let i = 0; i < kinds.length; i++) if (r < (cum[i] ?? 1)) return kinds[i] ?? 'repeat';
    return kinds[kinds.length - 1] ?? 'repeat';
  };
}

/**
 * Prompt text per kind. Repeated prompts come from a small fixed pool (cache hits after the first
 * request of each); fresh prompts carry a per-run id and a counter so they never hit a cache, even
 * one filled by an earlier run.
 */
export function createPrompts(opts: {
  repeatPool: number;
  runId: string;
  rng: () => number;
}): (kind: RequestKind) => string {
  let counter = 0;
  return (kind) => {
    if (kind === 'repeat' || kind === 'health') {
      const i = Math.floor(opts.rng() * opts.repeatPool);
      return `Loadtest question ${i}: explain in one sentence why caching helps a busy API.`;
    }
    counter++;
    return `Loadtest ${opts.runId} fresh question ${counter}: name one benefit of connection pooling.`;
  };
}
