import type { Member } from './member.js';

/*
 * Which upstream takes the next request for a model. Only upstreams whose circuit is closed and
 * that list the model are candidates (the catalog passes those that list it). Tiers, first
 * non-empty wins: model loaded and a slot free; a slot free (the model will load there); model
 * loaded; any. Within a tier, power of two choices: two upstreams at random, the one whose
 * utilisation after this request, (outstanding + 1) / (slots × weight), is lower — so load follows
 * free slots, and a model is not loaded on a second server while the first has room (Ollama would
 * otherwise swap models back and forth).
 */

const TIERS = 4;

function inTier(m: Member, model: string, tier: number): boolean {
  switch (tier) {
    case 0:
      return m.hasLoaded(model) && m.outstanding() < m.slots;
    case 1:
      return m.outstanding() < m.slots;
    case 2:
      return m.hasLoaded(model);
    default:
      return true;
  }
}

function score(m: Member): number {
  return (m.outstanding() + 1) / (m.slots * m.weight);
}

/** The better of two: lower score; equal scores go to the heavier weight, then to `a` (listed first). */
function better(a: Member, b: Member): Member {
  const sa = score(a);
  const sb = score(b);
  if (sa !== sb) return sa < sb ? a : b;
  return b.weight > a.weight ? b : a;
}

export function choose(
  model: string,
  candidates: readonly Member[],
  tried: readonly Member[],
): Member | undefined {
  if (candidates.length === 1) {
    const only = candidates[0]!;
    return only.breaker.closed && !tried.includes(only) ? only : undefined;
  }
  const usable = candidates.filter((m) => m.breaker.closed && !tried.includes(m));
  if (usable.length <= 1) return usable[0];
  for (let tier = 0; tier < TIERS; tier++) {
    const pool = tier === TIERS - 1 ? usable : usable.filter((m) => inTier(m, model, tier));
    if (pool.length === 0) continue;
    if (pool.length === 1) return pool[0];
    if (pool.length === 2) return better(pool[0]!, pool[1]!);
    const i = Math.floor(Math.random() * pool.length);
    let j = Math.floor(Math.random() * (pool.length - 1));
    if (j >= i) j++;
    return better(pool[i]!, pool[j]!);
  }
  return undefined;
}
