import { createModelRegistry } from './models.js';
import type { ModelRegistry } from './models.js';
import { createResidency, type Residency } from './residency.js';
import { createRng } from './rng.js';
import type { Rng } from './rng.js';
import { createSlots } from './slots.js';
import type { Slots } from './slots.js';
import type { SimFaults, SimOptions, SimStats } from './types.js';

/** Mutable state of one simulator instance (created per startSimulator call). */
export interface SimContext {
  readonly opts: Readonly<SimOptions>;
  faults: SimFaults;
  readonly models: ModelRegistry;
  /** Models in memory, for /api/ps. */
  readonly residency: Residency;
  readonly slots: Slots;
  /** Drives fault decisions; seeded so a run is reproducible. */
  readonly rng: Rng;
  readonly counters: {
    requests: Record<string, number>;
    generations: number;
    aborted: number;
    rejected503: number;
  };
  stats(): SimStats;
  resetStats(): void;
}

export function createContext(opts: Readonly<SimOptions>): SimContext {
  const counters = { requests: {} as Record<string, number>, generations: 0, aborted: 0, rejected503: 0 };
  const slots = createSlots(opts.parallel, opts.maxQueue);
  const models = createModelRegistry(opts.models, opts.embedModels);
  return {
    opts,
    faults: { ...opts.faults },
    models,
    residency: createResidency(models, opts.loaded),
    slots,
    rng: createRng(opts.seed ^ 0x5eed),
    counters,
    stats: () => ({
      requests: { ...counters.requests },
      generations: counters.generations,
      active: slots.active,
      queued: slots.queued,
      aborted: counters.aborted,
      rejected503: counters.rejected503,
    }),
    resetStats: () => {
      counters.requests = {};
      counters.generations = 0;
      counters.aborted = 0;
      counters.rejected503 = 0;
    },
  };
}
