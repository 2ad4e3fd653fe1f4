import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { InterpolationError, interpolateTree, parseEnvFile } from './interpolate.js';
import { checkSutazaiProcess, shutdownBudgetMs } from './sutazai-env.js';

/*
 * The offline equivalent of `docker compose config` for our compose file: YAML with merge keys,
 * interpolation from the project's .env, then the Compose Specification JSON schema (vendored in
 * deploy/schemas, source noted there), then what the schema cannot see: references between
 * services, files that must exist, and the SutazAI configuration each container gets.
 */

type Service = {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  profiles?: string[];
  env_file?: string[] | string;
  environment?: Record<string, string | number | null> | string[];
  depends_on?: Record<string, unknown> | string[];
  volumes?: Array<string | { type?: string; source?: string }>;
  networks?: Record<string, { aliases?: string[] } | null> | string[];
  stop_grace_period?: string;
};
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

const SCHEMA_PATH = 'deploy/schemas/compose-spec.json';
const SUTAZAI_IMAGE = 'sutazai:local';

export interface ComposeCheckInput {
  root: string;
  /** The compose file's text. */
  text: string;
  /** Variables for interpolation (what `.env` would hold). */
  env: Record<string, string>;
}

export function checkCompose({ root, text, env }: ComposeCheckInput): string[] {
  let doc: unknown;
  try {
    doc = interpolateTree(parse(text, { merge: true }), env);
  } catch (err) {
    if (err instanceof InterpolationError) return [`interpolation: ${err.message}`];
    throw err;
  }
  const schema = JSON.parse(readFileSync(path.join(root, SCHEMA_PATH), 'utf8')) as object;
  const validate = new Ajv({ strict: false, allErrors: true, validateSchema: false }).compile(schema);
  if (!validate(doc)) {
    return (validate.errors ?? []).map(
      (e) => `schema: ${e.instancePath || '/'} ${e.message ?? ''}${paramsText(e.params)}`,
    );
  }
  return semantics(root, doc as Compose);
}

function paramsText(p: Record<string, unknown>): string {
  const extra = p.additionalProperty ?? p.allowedValues ?? p.missingProperty;
  return extra === undefined ? '' : ` (${JSON.stringify(extra)})`;
}

const list = <T>(x: T[] | T | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

function semantics(root: string, c: Compose): string[] {
  const problems: string[] = [];
  const names = new Set(Object.keys(c.services));
  const imageEnv = dockerfileEnv(root);
  for (const [name, s] of Object.entries(c.services)) {
    const where = `services.${name}`;
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const d of deps) if (!names.has(d)) problems.push(`${where}.depends_on: no service '${d}'`);
    for (const f of list(s.env_file)) {
      if (!existsSync(path.join(root, f))) problems.push(`${where}.env_file: ${f} does not exist`);
    }
    for (const v of s.volumes ?? []) {
      const source = typeof v === 'string' ? v.split(':')[0] : v.source;
      if (!source) continue;
      if (source.startsWith('.') || source.startsWith('/')) {
        if (!existsSync(path.join(root, source))) problems.push(`${where}.volumes: ${source} does not exist`);
      } else if (!(source in (c.volumes ?? {}))) {
        problems.push(`${where}.volumes: named volume '${source}' is not declared`);
      }
    }
    if (s.image === SUTAZAI_IMAGE) problems.push(...sutazaiService(root, where, s, imageEnv));
  }
  problems.push(...llmAliases(c));
  return problems;
}

function sutazaiService(root: string, where: string, s: Service, imageEnv: Record<string, string>): string[] {
  const env: Record<string, string> = {};
  for (const f of list(s.env_file)) {
    const file = path.join(root, f);
    if (existsSync(file)) Object.assign(env, parseEnvFile(readFileSync(file, 'utf8')));
  }
  if (Array.isArray(s.environment)) {
    for (const kv of s.environment) {
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  } else {
    for (const [k, v] of Object.entries(s.environment ?? {})) if (v !== null) env[k] = String(v);
  }
  const args: string[] = typeof s.command === 'string' ? s.command.trim().split(/\s+/) : (s.command ?? []);
  const problems = checkSutazaiProcess(where, { ...imageEnv, ...env }, args);
  const role = args[0] ?? 'serve';
  if ((role === 'serve' || role === 'worker') && problems.length === 0) {
    const budget = shutdownBudgetMs({ ...imageEnv, ...env });
    const grace = durationMs(s.stop_grace_period ?? '10s');
    if (grace <= budget)
      problems.push(
        `${where}.stop_grace_period: ${grace} ms must exceed drain delay + shutdown grace (${budget} ms)`,
      );
  }
  return problems;
}

/** Every profile must give the gateways exactly one "llm" (services without a profile are in all). */
function llmAliases(c: Compose): string[] {
  const always: string[] = [];
  const byProfile = new Map<string, string[]>();
  for (const [name, s] of Object.entries(c.services)) {
    const nets = s.networks && !Array.isArray(s.networks) ? Object.values(s.networks) : [];
    if (!nets.some((n) => n?.aliases?.includes('llm'))) continue;
    if (!s.profiles?.length) always.push(name);
    for (const p of s.profiles ?? []) byProfile.set(p, [...(byProfile.get(p) ?? []), name]);
  }
  if (always.length + byProfile.size === 0) return ['no service answers as "llm" (the gateways\' upstream)'];
  return [...byProfile, ['(no profile)', []] as [string, string[]]]
    .map(([p, svcs]): [string, string[]] => [p, [...always, ...svcs]])
    .filter(([, svcs]) => svcs.length > 1)
    .map(([p, svcs]) => `profile ${p}: several services answer as "llm": ${svcs.join(', ')}`);
}

/** ENV lines of the runtime stage of the Dockerfile (what every container starts with). */
export function dockerfileEnv(root: string): Record<string, string> {
  const text = readFileSync(path.join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages = text.split(/^FROM /m);
  const out: Record<string, string> = {};
  for (const line of (stages.at(-1) ?? '').split('\n')) {
    if (!line.startsWith('ENV ')) continue;
    for (const m of line.slice(4).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) {
      out[m[1] ?? ''] = (m[2] ?? '').replace(/^"|"$/g, '');
    }
  }
  return out;
}

function durationMs(d: string): number {
  let ms = 0;
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    ms += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  }
  return ms;
}
