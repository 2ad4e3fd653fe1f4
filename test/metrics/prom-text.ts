/**
 * A strict parser for the Prometheus text exposition format (0.0.4), for tests: every line must
 * be a comment, HELP, TYPE, blank or a well-formed sample of a declared family; histograms must
 * have cumulative buckets ending in +Inf equal to _count. Throws on the first violation.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string, line: number): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)$/.test(s)) {
    throw new Error(`line ${line}: bad value "${s}"`);
  }
  return Number(s);
}

function parseLabels(s: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 0;
  for (;;) {
    if (s[i] === '}') return { labels, rest: s.slice(i + 1) };
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without '='`);
    const name = s.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`line ${line}: bad label name "${name}"`);
    if (name in labels) throw new Error(`line ${line}: duplicate label "${name}"`);
    if (s[eq + 1] !== '"') throw new Error(`line ${line}: label value must be quoted`);
    let j = eq + 2;
    let v = '';
    for (;;) {
      const c = s[j];
      if (c === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (c === '\\') {
        const n = s[j + 1];
        if (n === 'n') v += '\n';
        else if (n === '\\' || n === '"') v += n;
        else throw new Error(`line ${line}: bad escape \\${n ?? ''}`);
        j += 2;
        continue;
      }
      if (c === '"') break;
      if (c === '\n') throw new Error(`line ${line}: raw newline in label value`);
      v += c;
      j++;
    }
    labels[name] = v;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') throw new Error(`line ${line}: expected ',' or '}' after label`);
  }
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sampleName);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const f = families.get(sampleName.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seriesSeen = new Set<string>();
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const lines = text.split('\n');
  lines.forEach((raw, idx) => {
    const n = idx + 1;
    const line = raw;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // plain comment
      const [, kind, name = '', rest = ''] = m;
      if (!NAME.test(name)) throw new Error(`line ${n}: bad metric name "${name}"`);
      let f = families.get(name);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`line ${n}: bad type "${rest}"`);
        if (f && f.samples.length > 0) throw new Error(`line ${n}: TYPE after samples of ${name}`);
        if (f && f.type !== 'untyped') throw new Error(`line ${n}: second TYPE for ${name}`);
        if (!f) families.set(name, (f = { name, type: 'untyped', samples: [] }));
        f.type = rest as Family['type'];
      } else {
        if (f?.help !== undefined) throw new Error(`line ${n}: second HELP for ${name}`);
        if (!f) families.set(name, (f = { name, type: 'untyped', samples: [] }));
        f.help = rest;
      }
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`line ${n}: not a sample: "${line}"`);
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new Error(`line ${n}: bad sample name "${name}"`);
    let rest = line.slice(nameEnd);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest.slice(1), n));
    const parts = rest.trim().split(' ');
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2)
      throw new Error(`line ${n}: bad sample tail`);
    const value = parseValue(parts[0] ?? '', n);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${n}: bad timestamp`);
    const f = familyOf(name, families);
    if (!f) throw new Error(`line ${n}: sample ${name} has no declared family (TYPE/HELP)`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seriesSeen.has(key)) throw new Error(`line ${n}: duplicate series ${key}`);
    seriesSeen.add(key);
    if (f.type === 'counter' && !(value >= 0)) throw new Error(`line ${n}: negative counter`);
    if (name.endsWith('_bucket') && labels.le === undefined) throw new Error(`line ${n}: bucket without le`);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  const keyOf = (l: Record<string, string>) =>
    JSON.stringify(
      Object.entries(l)
        .filter(([k]) => k !== 'le')
        .sort(),
    );
  for (const s of f.samples) {
    const g = groups.get(keyOf(s.labels)) ?? { buckets: [] };
    groups.set(keyOf(s.labels), g);
    if (s.name.endsWith('_bucket')) g.buckets.push([parseValue(s.labels.le ?? '', 0), s.value]);
    else if (s.name.endsWith('_count')) g.count = s.value;
  }
  for (const [k, g] of groups) {
    let prev = -Infinity;
    let prevCount = 0;
    for (const [le, c] of g.buckets) {
      if (!(le > prev)) throw new Error(`${f.name}${k}: buckets not in increasing le order`);
      if (c < prevCount) throw new Error(`${f.name}${k}: buckets not cumulative`);
      prev = le;
      prevCount = c;
    }
    if (prev !== Infinity) throw new Error(`${f.name}${k}: no +Inf bucket`);
    if (g.count !== prevCount)
      throw new Error(`${f.name}${k}: +Inf bucket ${prevCount} != _count ${g.count}`);
  }
}

/** Sum of the samples named `name` whose labels include `match`. */
export function sum(families: Map<string, Family>, name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
  }
  return total;
}
