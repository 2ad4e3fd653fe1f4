/** Weight of a new measurement in the moving average once a few have been seen. */
const EWMA_ALPHA = 0.1;
/** Models whose estimate is kept (bounded: only models that answered get one). */
const MAX_MODELS = 1000;

/**
 * Service time of one generation per model, measured from slot taken to slot given back: a plain
 * mean over the first answers, then a moving average that follows changes, with its mean absolute
 * deviation. `priorMs` stands in until a model has answered once.
 */
export class ServiceEstimates {
  /** Per model: [mean ms, samples, mean absolute deviation ms]. */
  private readonly byModel = new Map<string, [number, number, number]>();
  constructor(private readonly priorMs: number) {}

  meanMs(model: string): number {
    return this.byModel.get(model)?.[0] ?? this.priorMs;
  }

  /** Whether the model has answered at least once (else the estimates are the prior). */
  measured(model: string): boolean {
    return this.byModel.has(model);
  }

  /** On the slow side (mean + mean deviation): what admission plans with. */
  slowMs(model: string): number {
    const e = this.byModel.get(model);
    return e === undefined ? this.priorMs : e[0] + e[2];
  }

  measure(model: string, ms: number): void {
    const e = this.byModel.get(model);
    if (e === undefined) {
      if (this.byModel.size >= MAX_MODELS) this.byModel.delete(this.byModel.keys().next().value ?? '');
      this.byModel.set(model, [ms, 1, 0]);
      return;
    }
    e[1]++;
    const w = Math.max(EWMA_ALPHA, 1 / e[1]);
    e[2] += (Math.abs(ms - e[0]) - e[2]) * w;
    e[0] += (ms - e[0]) * w;
  }
}
