import { parseArgs } from 'node:util';
import { z } from 'zod';
import { maskSecrets } from '../errors/startup.js';
import { parseThreshold } from './alert-thresholds.js';
import { parseUpstreamList } from './upstream-list.js';
import { displayUrl, type UpstreamConfig } from './upstreams.js';
import { FIELDS, LIST_FIELDS, SECRET_FIELDS, type FieldName } from './fields.js';

type Raw = { [K in FieldName]: z.output<(typeof FIELDS)[K]['schema']> };

/** The effective, validated, frozen configuration. Nothing else reads process.env. */
export interface Config extends Omit<Raw, 'upstreams'> {
  upstreams: readonly UpstreamConfig[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  env?: NodeJS.ProcessEnv;
  argv?: string[];
  /** Values that override env and flags (used by tests and the demo). */
  overrides?: Partial<Record<FieldName, unknown>>;
}

function upstreamDefaults(cfg: Raw) {
  return {
    apiKey: cfg.upstreamApiKey,
    connections: cfg.upstreamConnections,
    slots: cfg.upstreamSlots,
    warm: cfg.warmModels,
    timeouts: {
      connectMs: cfg.connectTimeoutMs,
      ttftMs: cfg.ttftTimeoutMs,
      idleMs: cfg.streamIdleTimeoutMs,
      totalMs: cfg.timeoutMs,
    },
  };
}

function flagOptions() {
  const options: Record<string, { type: 'string'; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(FIELDS)) {
    options[spec.flag] = LIST_FIELDS.has(name) ? { type: 'string', multiple: true } : { type: 'string' };
  }
  return options;
}

/** Parse env + flags once; every problem is reported together in one ConfigError. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const problems: string[] = [];
  let flags: Record<string, string | string[] | undefined> = {};
  try {
    flags = parseArgs({
      args: sources.argv ?? [],
      options: flagOptions(),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    const unknown = /Unknown option '([^']+)'/.exec((err as Error).message);
    problems.push(
      unknown
        ? `unknown flag ${unknown[1]}: every flag mirrors an environment variable (README, Configuration)`
        : (err as Error).message,
    );
  }

  const raw: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(FIELDS)) {
    let value: unknown = sources.overrides?.[name as FieldName];
    if (value === undefined) value = flags[spec.flag];
    if (value === undefined) {
      const e = env[spec.env];
      if (e !== undefined && e !== '') {
        value = LIST_FIELDS.has(name)
          ? e
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : e;
      }
    }
    const parsed = spec.schema.safeParse(value);
    if (parsed.success) raw[name] = parsed.data;
    else {
      const msg = parsed.error.issues.map((i) => i.message).join('; ');
      const got = SECRET_FIELDS.has(name) ? '[hidden]' : maskSecrets(JSON.stringify(value));
      problems.push(`${spec.env} / --${spec.flag}: ${msg} (got ${got}) — ${spec.doc}`);
    }
  }
  // Upstream entries are checked even when other fields failed, so every problem is listed at once
  // (when the list or OLLAMA_URL itself failed, that problem is already listed).
  const cfg = raw as Raw;
  const items = Array.isArray(raw.upstreams) ? cfg.upstreams : undefined;
  const canCheck = items !== undefined && (items.length > 0 || typeof raw.ollamaUrl === 'string');
  const upstreams = canCheck
    ? parseUpstreamList(items, cfg.upstreamsFile, cfg.ollamaUrl, upstreamDefaults(cfg), problems)
    : [];
  for (const t of Array.isArray(raw.alertThresholds) ? cfg.alertThresholds : []) {
    try {
      parseThreshold(t);
    } catch (err) {
      problems.push(`SUTAZAI_ALERT_THRESHOLDS / --alert-threshold: ${(err as Error).message}`);
    }
  }
  if (problems.length === 0) return deepFreeze({ ...cfg, upstreams });
  throw new ConfigError(problems);
}

/** Effective non-secret config, for GET /api/v1/settings. Secrets show as "[set]" or are absent. */
export function publicSettings(cfg: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(cfg)) {
    if (SECRET_FIELDS.has(name)) {
      if (value !== undefined) out[name] = '[set]';
      continue;
    }
    out[name] = value;
  }
  out.upstreams = cfg.upstreams.map((u) => ({
    id: u.id,
    kind: u.kind,
    url: displayUrl(u.url),
    slots: u.slots,
    weight: u.weight,
    ...(u.models ? { models: u.models } : {}),
    ...(u.warm ? { warm: u.warm } : {}),
  }));
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
