/**
 * Compose variable interpolation, as the Compose Specification defines it (compose-spec
 * `interpolation.md`): `$$` is a literal `$`; `$VAR`, `${VAR}`; `${VAR:-default}` (unset or
 * empty), `${VAR-default}` (unset); `${VAR:?err}`, `${VAR?err}` (required); `${VAR:+alt}`,
 * `${VAR+alt}` (replacement when set). Defaults may themselves contain interpolations.
 */
export class InterpolationError extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

export function interpolate(text: string, env: Record<string, string | undefined>): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = closingBrace(text, i + 2);
      out += expand(text.slice(i + 2, end), env);
      i = end + 1;
    } else {
      const m = NAME.exec(text.slice(i + 1));
      if (!m) throw new InterpolationError(`invalid interpolation format in "${text}"`);
      out += env[m[0]] ?? '';
      i += 1 + m[0].length;
    }
  }
  return out;
}

function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let j = from; j < text.length; j++) {
    if (text[j] === '{') depth++;
    else if (text[j] === '}' && --depth === 0) return j;
  }
  throw new InterpolationError(`unclosed \${ in "${text}"`);
}

function expand(inner: string, env: Record<string, string | undefined>): string {
  const m = NAME.exec(inner);
  if (!m) throw new InterpolationError(`invalid interpolation format: \${${inner}}`);
  const name = m[0];
  const rest = inner.slice(name.length);
  const value = env[name];
  const set = value !== undefined;
  const nonEmpty = set && value !== '';
  if (rest === '') return value ?? '';
  const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[0];
  if (!op) throw new InterpolationError(`invalid interpolation format: \${${inner}}`);
  const arg = () => interpolate(rest.slice(op.length), env);
  switch (op) {
    case ':-':
      return nonEmpty ? (value ?? '') : arg();
    case '-':
      return set ? (value ?? '') : arg();
    case ':?':
    case '?':
      if (op === ':?' ? nonEmpty : set) return value ?? '';
      throw new InterpolationError(`required variable ${name} is missing a value: ${arg()}`);
    case ':+':
      return nonEmpty ? arg() : '';
    default:
      return set ? arg() : '';
  }
}

/** Interpolate every string in a parsed YAML document (keys are left alone, as Compose does). */
export function interpolateTree(node: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof node === 'string') return interpolate(node, env);
  if (Array.isArray(node)) return node.map((x) => interpolateTree(x, env));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, env)]));
  }
  return node;
}

/** Parse a Compose env file / .env: KEY=VALUE lines, # comments, optional quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let v = line.slice(eq + 1).trim();
    if (/^(['"]).*\1$/.test(v)) v = v.slice(1, -1);
    out[line.slice(0, eq).trim()] = v;
  }
  return out;
}
