export type Severity = 'warning' | 'critical';
export type AlertLevel = 'ok' | Severity;

/** One reading of a rule; `value: null` = no data (counts as OK: nothing to judge). */
export interface Reading {
  /** What the reading is about when a rule has several (an upstream id). */
  subject?: string;
  value: number | null;
  /** Extra words for the message (e.g. the upstream's error). */
  detail?: string;
}

/** A rule fires when its value is strictly greater than a threshold (the seed's semantics). */
export interface AlertRule<I> {
  id: string;
  /** e.g. "p95 latency" */
  title: string;
  unit: string;
  warning?: number;
  critical?: number;
  read(inputs: I): Reading[];
  /** Custom wording (default: "<title> <value> > <threshold>: <detail>"). */
  message?: (r: Reading, level: AlertLevel) => string;
}

export interface ActiveAlert {
  /** rule id, plus ":subject" when the rule has subjects. */
  key: string;
  rule: string;
  subject?: string;
  severity: Severity;
  value: number;
  threshold: number;
  message: string;
  /** ISO time the alert fired (not reset by escalation). */
  since: string;
  updated_at: string;
}

export interface AlertEvent {
  at: string;
  key: string;
  rule: string;
  subject?: string;
  /** fired: ok → warning/critical; escalated / downgraded between severities; resolved → ok. */
  kind: 'fired' | 'escalated' | 'downgraded' | 'resolved';
  from: AlertLevel;
  to: AlertLevel;
  value: number | null;
  threshold?: number;
  message: string;
}

export interface AlertEngineOptions<I> {
  rules: readonly AlertRule<I>[];
  /** Consecutive breaching evaluations before an alert fires or escalates. Default 2. */
  fireAfter?: number;
  /** Consecutive better evaluations before it is downgraded or resolved. Default 3. */
  clearAfter?: number;
  /** Events kept for GET /api/v1/alerts. Default 200. */
  historySize?: number;
  onEvent?: (e: AlertEvent) => void;
  now?: () => number;
}

export interface AlertEngine<I> {
  evaluate(inputs: I): AlertEvent[];
  active(): ActiveAlert[];
  /** Newest first. */
  history(): AlertEvent[];
}

const RANK: Record<AlertLevel, number> = { ok: 0, warning: 1, critical: 2 };
const BY_RANK: readonly AlertLevel[] = ['ok', 'warning', 'critical'];

interface Instance {
  level: AlertLevel;
  since: number;
  /** Consecutive evaluations above / below the current level, and the level they agree on. */
  up: number;
  upLevel: number;
  down: number;
  downLevel: number;
  value: number | null;
  threshold: number;
  message: string;
  updatedAt: number;
}

function fmt(v: number, unit: string): string {
  const n = Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 10) / 10;
  return unit === '%' ? `${n}%` : unit ? `${n} ${unit}` : `${n}`;
}

/**
 * Threshold rules with hysteresis: an alert fires (or escalates) only after `fireAfter`
 * consecutive evaluations at or above the new severity, and is downgraded or resolved only after
 * `clearAfter` consecutive evaluations below it, so a value hovering at a threshold doesn't flap.
 */
export function createAlertEngine<I>(opts: AlertEngineOptions<I>): AlertEngine<I> {
  const fireAfter = opts.fireAfter ?? 2;
  const clearAfter = opts.clearAfter ?? 3;
  const historySize = opts.historySize ?? 200;
  const now = opts.now ?? Date.now;
  if (fireAfter < 1 || clearAfter < 1) throw new Error('fireAfter and clearAfter must be ≥ 1');
  for (const r of opts.rules) {
    if (r.warning === undefined && r.critical === undefined)
      throw new Error(`alert rule ${r.id}: no threshold`);
  }
  const instances = new Map<string, Instance & { rule: AlertRule<I>; subject?: string }>();
  const history: AlertEvent[] = [];

  function levelOf(rule: AlertRule<I>, v: number | null): number {
    if (v === null) return 0;
    if (rule.critical !== undefined && v > rule.critical) return 2;
    if (rule.warning !== undefined && v > rule.warning) return 1;
    return 0;
  }

  function describe(rule: AlertRule<I>, subject: string | undefined, r: Reading, level: number) {
    const threshold = (level === 2 ? rule.critical : rule.warning) ?? rule.critical ?? rule.warning ?? 0;
    const what = subject ? `${rule.title} (${subject})` : rule.title;
    const value = r.value === null ? 'no data' : fmt(r.value, rule.unit);
    const tail = r.detail ? `: ${r.detail}` : '';
    if (rule.message) return { threshold, message: rule.message(r, BY_RANK[level] ?? 'ok') };
    const message =
      level === 0
        ? `${what} back to normal (${value})${tail}`
        : `${what} ${value} > ${fmt(threshold, rule.unit)}${tail}`;
    return { threshold, message };
  }

  return {
    evaluate(inputs) {
      const t = now();
      const events: AlertEvent[] = [];
      for (const rule of opts.rules) {
        for (const r of rule.read(inputs)) {
          const key = r.subject === undefined ? rule.id : `${rule.id}:${r.subject}`;
          let inst = instances.get(key);
          if (!inst) {
            inst = {
              rule,
              level: 'ok',
              since: t,
              up: 0,
              upLevel: 2,
              down: 0,
              downLevel: 0,
              value: null,
              threshold: 0,
              message: '',
              updatedAt: t,
            };
            if (r.subject !== undefined) inst.subject = r.subject;
            instances.set(key, inst);
          }
          const computed = levelOf(rule, r.value);
          const current = RANK[inst.level];
          let next = current;
          if (computed > current) {
            inst.down = 0;
            inst.up++;
            inst.upLevel = inst.up === 1 ? computed : Math.min(inst.upLevel, computed);
            if (inst.up >= fireAfter) next = inst.upLevel;
          } else if (computed < current) {
            inst.up = 0;
            inst.down++;
            inst.downLevel = inst.down === 1 ? computed : Math.max(inst.downLevel, computed);
            if (inst.down >= clearAfter) next = inst.downLevel;
          } else {
            inst.up = 0;
            inst.down = 0;
          }
          // While active, the alert shows its last breaching reading (not a recovering one).
          if (next > 0 && computed >= next) {
            const d = describe(rule, r.subject, r, next);
            inst.value = r.value;
            inst.threshold = d.threshold;
            inst.message = d.message;
            inst.updatedAt = t;
          }
          if (next === current) continue;
          const d = describe(rule, r.subject, r, next);
          const from = inst.level;
          const to = BY_RANK[next] ?? 'ok';
          if (current === 0) inst.since = t;
          inst.level = to;
          inst.up = 0;
          inst.down = 0;
          const kind =
            current === 0 ? 'fired' : next === 0 ? 'resolved' : next > current ? 'escalated' : 'downgraded';
          const e: AlertEvent = {
            at: new Date(t).toISOString(),
            key,
            rule: rule.id,
            ...(r.subject !== undefined ? { subject: r.subject } : {}),
            kind,
            from,
            to,
            value: r.value,
            ...(next !== 0 ? { threshold: d.threshold } : {}),
            message: d.message,
          };
          events.push(e);
          history.unshift(e);
          if (history.length > historySize) history.pop();
          opts.onEvent?.(e);
        }
      }
      return events;
    },
    active() {
      const out: ActiveAlert[] = [];
      for (const [key, i] of instances) {
        if (i.level === 'ok') continue;
        out.push({
          key,
          rule: i.rule.id,
          ...(i.subject !== undefined ? { subject: i.subject } : {}),
          severity: i.level,
          value: i.value ?? 0,
          threshold: i.threshold,
          message: i.message,
          since: new Date(i.since).toISOString(),
          updated_at: new Date(i.updatedAt).toISOString(),
        });
      }
      return out.sort((a, b) => RANK[b.severity] - RANK[a.severity] || a.since.localeCompare(b.since));
    },
    history: () => [...history],
  };
}
