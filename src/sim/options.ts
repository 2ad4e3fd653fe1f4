import type { SimFaults, SimOptions } from './types.js';

/** What startSimulator accepts: any subset of SimOptions, faults included. */
export type SimStartOptions = Partial<Omit<SimOptions, 'faults'>> & { faults?: Partial<SimFaults> };

/** Defaults: any free port, parallel 4, max queue 512 (Ollama's default), zero latency, 24 tokens. */
export function defaultSimOptions(): SimOptions {
  return {
    host: '127.0.0.1',
    port: 0,
    models: ['llama3.2', 'qwen2.5:0.5b'],
    embedModels: ['nomic-embed-text'],
    tps: 0,
    ttftMs: 0,
    parallel: 4,
    maxQueue: 512,
    seed: 42,
    defaultTokens: 24,
    faults: defaultFaults(),
  };
}

export function defaultFaults(): SimFaults {
  return {
    errorRate: 0,
    midStreamErrorRate: 0,
    stallRate: 0,
    slowHeadersMs: 0,
    failNext: 0,
    failNextStatus: 503,
  };
}

const isNonNegInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isRate = (v: unknown): boolean => typeof v === 'number' && v >= 0 && v <= 1;

/** Problems with a partial fault set (empty = valid). Unknown keys are problems too. */
export function faultProblems(f: Partial<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const known = new Set(Object.keys(defaultFaults()));
  for (const [k, v] of Object.entries(f)) {
    if (!known.has(k)) problems.push(`unknown fault "${k}"`);
    else if (k.endsWith('Rate')) {
      if (!isRate(v)) problems.push(`${k} must be a number between 0 and 1`);
    } else if (k === 'failNextStatus') {
      if (!(isNonNegInt(v) && ((v as number) === 0 || ((v as number) >= 400 && (v as number) <= 599)))) {
        problems.push(`${k} must be an HTTP error status (400-599)`);
      }
    } else if (!isNonNegInt(v)) problems.push(`${k} must be a non-negative integer`);
  }
  return problems;
}

/** Merge over the defaults and validate; throws one Error listing every problem. */
export function resolveSimOptions(partial: SimStartOptions = {}): SimOptions {
  const d = defaultSimOptions();
  const o: SimOptions = { ...d, ...partial, faults: { ...d.faults, ...partial.faults } };
  const problems: string[] = [];
  if (typeof o.host !== 'string' || o.host === '') problems.push('host must be a non-empty string');
  if (!isNonNegInt(o.port) || o.port > 65535) problems.push('port must be an integer 0-65535');
  const names = (v: unknown): boolean =>
    Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '');
  if (!names(o.models)) problems.push('models must be a list of non-empty names');
  if (!names(o.embedModels)) problems.push('embedModels must be a list of non-empty names');
  if (typeof o.tps !== 'number' || !(o.tps >= 0) || !Number.isFinite(o.tps))
    problems.push('tps must be a number >= 0');
  if (!isNonNegInt(o.ttftMs)) problems.push('ttftMs must be a non-negative integer');
  if (!isNonNegInt(o.parallel) || o.parallel < 1) problems.push('parallel must be an integer >= 1');
  if (!isNonNegInt(o.maxQueue)) problems.push('maxQueue must be a non-negative integer');
  if (!Number.isInteger(o.seed)) problems.push('seed must be an integer');
  if (!isNonNegInt(o.defaultTokens)) problems.push('defaultTokens must be a non-negative integer');
  problems.push(...faultProblems(o.faults as unknown as Record<string, unknown>));
  if (problems.length > 0) throw new Error(`invalid simulator options: ${problems.join('; ')}`);
  return o;
}
