import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { UpstreamConfig, UpstreamKind, UpstreamTimeouts } from './upstreams.js';

/*
 * The upstream list, from `SUTAZAI_UPSTREAMS` / `--upstream` entries
 * (`KIND=URL[;slots=N][;weight=W][;models=a|b][;warm=a|b][;id=NAME]`) and from a JSON file
 * (`SUTAZAI_UPSTREAMS_FILE`) for many upstreams. Syntax documented in docs/upstreams.md.
 */

/** What every entry inherits from the global settings. */
export interface UpstreamDefaults {
  apiKey: string | undefined;
  connections: number;
  slots: number;
  timeouts: UpstreamTimeouts;
  /** SUTAZAI_WARM_MODELS: preloaded on every upstream that lists them. */
  warm: readonly string[];
}

const KIND_RE = /^(ollama|openai)=([^;]+)(;.*)?$/;
const ID_RE = /^[A-Za-z0-9._@:#-]{1,64}$/;

const fileEntry = z.strictObject({
  kind: z.enum(['ollama', 'openai']),
  url: z.string(),
  id: z.string().regex(ID_RE, 'letters, digits and ._@:#- only').optional(),
  slots: z.number().int().min(1).max(4096).optional(),
  weight: z.number().positive().max(1000).optional(),
  models: z.array(z.string().min(1)).optional(),
  warm: z.array(z.string().min(1)).optional(),
  connections: z.number().int().min(1).max(65535).optional(),
  apiKey: z.string().optional(),
});
const fileSchema = z.strictObject({ upstreams: z.array(fileEntry) });
type Entry = z.output<typeof fileEntry>;

/** `;key=value` options of one list entry. */
function parseOptions(item: string, opts: string, problems: string[]): Partial<Entry> | undefined {
  const out: Partial<Entry> = {};
  let ok = true;
  const bad = (msg: string) => {
    problems.push(`upstream "${item}": ${msg}`);
    ok = false;
  };
  for (const part of opts.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    const list = value
      .split('|')
      .map((s) => s.trim())
      .filter(Boolean);
    switch (key) {
      case 'slots': {
        const n = Number(value);
        if (Number.isInteger(n) && n >= 1 && n <= 4096) out.slots = n;
        else bad(`slots must be an integer 1-4096, got "${value}"`);
        break;
      }
      case 'weight': {
        const n = Number(value);
        if (n > 0 && n <= 1000) out.weight = n;
        else bad(`weight must be a number in (0, 1000], got "${value}"`);
        break;
      }
      case 'models':
        out.models = list;
        break;
      case 'warm':
        out.warm = list;
        break;
      case 'id':
        if (ID_RE.test(value)) out.id = value;
        else bad(`id "${value}" must be 1-64 letters, digits or ._@:#-`);
        break;
      default:
        bad(`unknown option "${key}" (slots, weight, models, warm, id)`);
    }
  }
  return ok ? out : undefined;
}

/** Entries of the upstream list (env/flags), each `KIND=URL[;options]`. */
function fromItems(items: readonly string[], problems: string[]): Entry[] {
  const out: Entry[] = [];
  for (const item of items) {
    const m = KIND_RE.exec(item.trim());
    if (!m) {
      problems.push(
        `upstream "${item}": expected KIND=URL[;slots=N;weight=W;models=a|b;warm=a|b;id=NAME] with KIND ollama or openai (SUTAZAI_UPSTREAMS / --upstream)`,
      );
      continue;
    }
    const opts = parseOptions(item, m[3] ?? '', problems);
    if (opts !== undefined) out.push({ ...opts, kind: m[1] as UpstreamKind, url: m[2] ?? '' });
  }
  return out;
}

/** Entries of the JSON upstreams file (`{"upstreams":[...]}` or a bare array). */
function fromFile(path: string, problems: string[]): Entry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    problems.push(`SUTAZAI_UPSTREAMS_FILE "${path}": ${(err as Error).message}`);
    return [];
  }
  const parsed = fileSchema.safeParse(Array.isArray(raw) ? { upstreams: raw } : raw);
  if (parsed.success) return parsed.data.upstreams;
  for (const issue of parsed.error.issues) {
    problems.push(`SUTAZAI_UPSTREAMS_FILE "${path}": ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return [];
}

/**
 * The configured upstreams: list entries first, then the file's; `fallbackUrl` (OLLAMA_URL) when
 * neither names any. Ids default to `kind@host` (`#n` for a second one on the same host).
 */
export function parseUpstreamList(
  items: readonly string[],
  file: string | undefined,
  fallbackUrl: string,
  defaults: UpstreamDefaults,
  problems: string[],
): UpstreamConfig[] {
  const entries = [...fromItems(items, problems), ...(file ? fromFile(file, problems) : [])];
  if (entries.length === 0 && items.length === 0 && !file) entries.push({ kind: 'ollama', url: fallbackUrl });
  const seenHost = new Map<string, number>();
  const seenId = new Set<string>();
  const out: UpstreamConfig[] = [];
  for (const e of entries) {
    const rawUrl = e.url.trim().replace(/\/+$/, '');
    const label = `${e.kind}=${rawUrl}`;
    if (!URL.canParse(rawUrl) || !/^https?:$/.test(new URL(rawUrl).protocol)) {
      problems.push(`upstream "${label}": "${rawUrl}" is not an http(s) URL`);
      continue;
    }
    const host = new URL(rawUrl).host;
    const n = (seenHost.get(host) ?? 0) + 1;
    seenHost.set(host, n);
    const id = e.id ?? (n === 1 ? `${e.kind}@${host}` : `${e.kind}@${host}#${n}`);
    if (seenId.has(id)) {
      problems.push(`upstream "${label}": duplicate id "${id}"`);
      continue;
    }
    seenId.add(id);
    const apiKey = e.apiKey ?? defaults.apiKey;
    const warm = [...new Set([...(e.warm ?? []), ...defaults.warm])];
    out.push({
      id,
      kind: e.kind,
      url: rawUrl,
      ...(apiKey ? { apiKey } : {}),
      connections: e.connections ?? defaults.connections,
      timeouts: defaults.timeouts,
      slots: e.slots ?? defaults.slots,
      weight: e.weight ?? 1,
      ...(e.models !== undefined ? { models: e.models } : {}),
      ...(warm.length > 0 ? { warm } : {}),
    });
  }
  return out;
}
