import type { ModelRegistry } from './models.js';

/*
 * Which models the simulator reports as loaded in memory (`/api/ps`), and until when. Starts with
 * `SimOptions.loaded` (every model when unset); a request naming a model loads it for its
 * `keep_alive` (Ollama's default 5m; a negative value = for ever; 0 = unload).
 */

const DEFAULT_KEEP_ALIVE_MS = 5 * 60_000;
/** What Ollama reports for `keep_alive: -1`: a time far in the future. */
const FOREVER = Date.parse('2318-01-01T00:00:00Z');

export interface Residency {
  /** Loaded models with their unload time (epoch ms), expired ones dropped. */
  loaded(): Array<{ name: string; expiresAt: number }>;
  /** A request used `name` with this `keep_alive` (body value; undefined = default). */
  touch(name: string, keepAlive: unknown): void;
}

/** keep_alive as Ollama reads it: seconds as a number, or a duration string like "10m", "-1". */
function keepAliveMs(v: unknown): number {
  if (typeof v === 'number') return v < 0 ? -1 : v * 1000;
  if (typeof v !== 'string' || v === '') return DEFAULT_KEEP_ALIVE_MS;
  const m = /^(-?\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) return DEFAULT_KEEP_ALIVE_MS;
  const n = Number(m[1]);
  if (n < 0) return -1;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000;
  return n * unit;
}

export function createResidency(models: ModelRegistry, initial: readonly string[] | undefined): Residency {
  const until = new Map<string, number>();
  const start = Date.now() + DEFAULT_KEEP_ALIVE_MS;
  for (const m of models.all) {
    if (initial === undefined || initial.some((n) => models.find(n)?.name === m.name))
      until.set(m.name, start);
  }
  return {
    loaded() {
      const now = Date.now();
      const out: Array<{ name: string; expiresAt: number }> = [];
      for (const [name, at] of until) {
        if (at > now) out.push({ name, expiresAt: at });
        else until.delete(name);
      }
      return out;
    },
    touch(name, keepAlive) {
      const found = models.find(name);
      if (found === undefined) return;
      const ms = keepAliveMs(keepAlive);
      if (ms === 0) until.delete(found.name);
      else until.set(found.name, ms < 0 ? FOREVER : Date.now() + ms);
    },
  };
}
