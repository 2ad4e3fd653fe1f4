import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms for the request hot path. prom-client validates and hashes the label
 * object on every inc()/observe() (several allocations per call, ~10 % of a cached request's CPU
 * in a profile); these keep one series object per label-value tuple in a Map keyed by the joined
 * values, and only build label objects when Prometheus scrapes. They register in a prom-client
 * Registry like its own metrics: the registry only calls get() and reset().
 */

interface Options<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  registers: Registry[];
}

type Labels<L extends string> = Record<L, string>;

interface Value {
  labels: Record<string, string>;
  value: number;
  metricName?: string;
}

/** What prom-client's Registry reads from a metric when it renders the exposition. */
export interface MetricExposition {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: Value[];
}

abstract class FastMetric<L extends string, S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly aggregator = 'sum' as const;
  protected readonly series = new Map<string, { labels: Labels<L>; s: S }>();

  constructor(opts: Options<L>) {
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = opts.labelNames ?? [];
    // Safe: Registry uses only name, get() and reset() of what it holds.
    for (const r of opts.registers) r.registerMetric(this as unknown as Metric);
  }

  protected abstract create(): S;

  /** The series for these label values (in labelNames order), created on first use. */
  protected child(values: readonly string[]): S {
    const key = values.length === 1 ? (values[0] ?? '') : values.join('\u0001');
    let e = this.series.get(key);
    if (e === undefined) {
      if (values.length !== this.labelNames.length) {
        throw new Error(
          `${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`,
        );
      }
      const labels = {} as Labels<L>;
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      e = { labels, s: this.create() };
      this.series.set(key, e);
    }
    return e.s;
  }

  reset(): void {
    this.series.clear();
  }
}

export interface CounterSeries {
  value: number;
}

export class FastCounter<L extends string = never> extends FastMetric<L, CounterSeries> {
  readonly type = 'counter' as const;
  protected create(): CounterSeries {
    return { value: 0 };
  }
  /** The series itself, for call sites that cache it: `h.value += n`. */
  handle(...values: string[]): CounterSeries {
    return this.child(values);
  }
  labels(...values: string[]): { inc(n?: number): void } {
    const s = this.child(values);
    return {
      inc(n = 1) {
        s.value += n;
      },
    };
  }
  inc(...values: string[]): void {
    this.child(values).value++;
  }
  add(n: number, ...values: string[]): void {
    this.child(values).value += n;
  }
  async get(): Promise<MetricExposition> {
    const values: Value[] = [];
    for (const { labels, s } of this.series.values()) values.push({ labels, value: s.value });
    // A counter without labels exists (at 0) before its first increment, as in prom-client.
    if (this.labelNames.length === 0 && values.length === 0) values.push({ labels: {}, value: 0 });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

interface HistogramSeries {
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export interface HistogramHandle {
  observe(v: number): void;
}

export class FastHistogram<L extends string = never> extends FastMetric<L, HistogramSeries> {
  readonly type = 'histogram' as const;
  private readonly bounds: readonly number[];

  constructor(opts: Options<L> & { buckets: readonly number[] }) {
    super(opts);
    this.bounds = [...opts.buckets].sort((a, b) => a - b);
  }
  protected create(): HistogramSeries {
    return { counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }
  /** Record `v` (seconds, or whatever unit the buckets are in) in the series of these label values. */
  observe(v: number, ...values: string[]): void {
    this.record(this.child(values), v);
  }
  /** A bound recorder for call sites that cache it. */
  handle(...values: string[]): HistogramHandle {
    const s = this.child(values);
    return { observe: (v) => this.record(s, v) };
  }
  private record(s: HistogramSeries, v: number): void {
    if (!Number.isFinite(v)) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > (b[i] ?? Infinity)) i++;
    s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += v;
    s.count++;
  }
  async get(): Promise<MetricExposition> {
    const values: Value[] = [];
    for (const { labels, s } of this.series.values()) {
      let cum = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cum += s.counts[i] ?? 0;
        const le = i < this.bounds.length ? String(this.bounds[i]) : '+Inf';
        values.push({ labels: { ...labels, le }, value: cum, metricName: `${this.name}_bucket` });
      }
      values.push({ labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
