import { hash } from 'node:crypto';
import type { ChatMessage, EmbedRequest, GenerationOptions, GenerationRequest } from '../pipeline/types.js';

/**
 * Ollama runner options that change speed or memory use but not the text produced; they are
 * left out of the key so that, e.g., a different num_thread still hits.
 */
const NON_OUTPUT_OPTIONS: ReadonlySet<string> = new Set([
  'num_thread',
  'num_gpu',
  'main_gpu',
  'num_batch',
  'use_mmap',
  'use_mlock',
  'low_vram',
  'numa',
  'vocab_only',
  'f16_kv',
]);

/**
 * JSON with sorted object keys, in one pass: equal meaning → equal text. Object properties that
 * are undefined, non-finite numbers or empty arrays are left out (absent and empty mean the same).
 */
export function canonicalJson(value: unknown): string {
  return write(value, false) ?? 'null';
}

function write(v: unknown, inArray: boolean): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : undefined;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        if (v.length === 0) return inArray ? '[]' : undefined;
        let out = '[';
        for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + (write(v[i], true) ?? 'null');
        return `${out}]`;
      }
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      // The objects built below already have sorted keys: sorting them anyway allocated ~10 % of
      // what a cached request allocates.
      if (!isSorted(keys)) keys.sort();
      let out = '';
      for (const k of keys) {
        const s = write(o[k], false);
        if (s !== undefined) out += `${out ? ',' : ''}${quote(k)}:${s}`;
      }
      return `{${out}}`;
    }
    default:
      return undefined;
  }
}

/**
 * Object keys JSON-quoted once, not per request: the same few field names recur in every key.
 * Keys from client-supplied values (schemas, tool parameters) are unbounded, so the memo stops
 * growing at QUOTED_MAX entries and quotes anything after that on the spot.
 */
const QUOTED_MAX = 512;
const quoted = new Map<string, string>();
function quote(key: string): string {
  let q = quoted.get(key);
  if (q === undefined) {
    q = JSON.stringify(key);
    if (quoted.size < QUOTED_MAX) quoted.set(key, q);
  }
  return q;
}

/** Whether `keys` are in the order Array.prototype.sort() would put them (UTF-16 code units). */
function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) return false;
  return true;
}

/**
 * The options as they enter the key. Written as loops: object rest/spread here cost ~6 µs of a
 * ~100 µs cached request in profiles.
 */
function options(o: GenerationOptions | undefined): Record<string, unknown> | undefined {
  if (!o) return undefined;
  const out: Record<string, unknown> = {};
  const src = o as Record<string, unknown>;
  for (const k of Object.keys(src)) if (k !== 'extra' && k !== 'stop') out[k] = src[k];
  // Stop sequences are a set: their order does not change the answer.
  if (o.stop) out.stop = [...new Set(o.stop)].sort();
  if (o.extra) {
    let kept: Record<string, unknown> | undefined;
    for (const k of Object.keys(o.extra)) {
      if (!NON_OUTPUT_OPTIONS.has(k)) (kept ??= {})[k] = o.extra[k];
    }
    if (kept) out.extra = kept;
  }
  return out;
}

/**
 * Images enter the key as their SHA-256, not as base64 text: a photo is megabytes, and copying it
 * into the canonical JSON only to hash that text again would read it twice (and copy it once).
 */
function imageDigests(images: readonly string[]): string[] {
  return images.map((b64) => `sha256:${hash('sha256', b64, 'base64url')}`);
}

/** Tool-call ids are random per client: keep only which call a result answers (by first appearance). */
function messages(list: ChatMessage[]): Record<string, unknown>[] {
  const ids = new Map<string, number>();
  const ref = (id: string | undefined) => {
    if (id === undefined) return undefined;
    if (!ids.has(id)) ids.set(id, ids.size);
    return ids.get(id);
  };
  // Only the fields a message has: fewer keys to sort and write (absent and undefined mean the same).
  return list.map((m) => {
    // Keys added in sorted order, so canonicalJson need not sort them.
    const o: Record<string, unknown> = { content: m.content };
    if (m.images !== undefined) o.images = imageDigests(m.images);
    o.role = m.role;
    if (m.thinking !== undefined) o.thinking = m.thinking;
    if (m.toolCallId !== undefined) o.toolCallRef = ref(m.toolCallId);
    if (m.toolCalls !== undefined) {
      o.toolCalls = m.toolCalls.map((c) => ({ arguments: c.arguments, name: c.name, ref: ref(c.id) }));
    }
    if (m.toolName !== undefined) o.toolName = m.toolName;
    return o;
  });
}

/**
 * Everything that changes the answer, and nothing else: not stream/non-stream (they share the
 * entry), not priority, keep-alive, cache directives or request ids. Tool-call ids in the history
 * are random per client, so only the call/result pairing they express is kept.
 */
export function canonicalRequest(req: GenerationRequest | EmbedRequest): Record<string, unknown> {
  switch (req.kind) {
    // Keys in sorted order, so canonicalJson need not sort them.
    case 'chat':
      return {
        format: req.format,
        kind: req.kind,
        logprobs: req.logprobs,
        messages: messages(req.messages),
        model: req.model,
        options: options(req.options),
        think: req.think,
        toolChoice: req.toolChoice,
        tools: req.tools,
      };
    case 'generate':
      return {
        format: req.format,
        images: req.images && imageDigests(req.images),
        kind: req.kind,
        logprobs: req.logprobs,
        model: req.model,
        options: options(req.options),
        prompt: req.prompt,
        raw: req.raw,
        suffix: req.suffix,
        system: req.system,
        think: req.think,
      };
    case 'embed':
      return {
        dimensions: req.dimensions,
        input: req.input,
        kind: req.kind,
        model: req.model,
        options: options(req.options),
        tokens: req.tokens,
        truncate: req.truncate,
      };
  }
}

/**
 * `<prefix>r:<kind>:<model>:<sha256 hex>`. The readable kind and model let an operator clear by
 * pattern (e.g. a model name); the hash covers the full canonical request, model included.
 */
export function cacheKey(prefix: string, req: GenerationRequest | EmbedRequest, scope?: string): string {
  const canonical = canonicalRequest(req);
  // A per-key cache (SUTAZAI_CACHE_PER_KEY) folds the API key id into the hash.
  const digest = hash(
    'sha256',
    canonicalJson(scope === undefined ? canonical : { ...canonical, _key: scope }),
    'hex',
  );
  return `${responseKeyPrefix(prefix)}${req.kind}:${req.model}:${digest}`;
}

/** The namespace under which response entries live (so clear never touches other data under `prefix`). */
export function responseKeyPrefix(prefix: string): string {
  return `${prefix}r:`;
}
