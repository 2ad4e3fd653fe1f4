import { createRng, hash32, pick } from './rng.js';
import type { Rng } from './rng.js';

/**
 * Deterministic "model output". Rules (documented in README.md, relied on by tests):
 * - a token is one word; the first token has no leading space, every later one has one;
 * - prompt tokens = whitespace-separated words in the prompt text (see countWords);
 * - completion tokens = number of tokens emitted = words in the output text.
 */

const VOCABULARY = [
  'the',
  'quick',
  'model',
  'answers',
  'with',
  'simulated',
  'words',
  'from',
  'a',
  'fixed',
  'list',
  'gateway',
  'stream',
  'token',
  'cache',
  'queue',
  'local',
  'server',
  'request',
  'reply',
  'simple',
  'river',
  'mountain',
  'silver',
  'garden',
  'light',
  'signal',
  'number',
  'yellow',
  'ocean',
  'paper',
  'engine',
  'window',
  'forest',
  'cloud',
  'stone',
  'bright',
  'calm',
  'swift',
  'green',
  'orange',
  'music',
  'winter',
  'summer',
  'table',
  'market',
  'little',
  'story',
  'harbor',
  'planet',
  'letter',
  'bridge',
  'candle',
  'valley',
  'thunder',
  'meadow',
  'copper',
  'violet',
  'echo',
  'lantern',
  'pixel',
  'atlas',
  'delta',
  'omega',
] as const;

export type FinishReason = 'stop' | 'length';

export interface TextPlan {
  /** Output pieces in order; joined they form the output text. */
  pieces: string[];
  finishReason: FinishReason;
}

export interface TextSpec {
  /** Everything that determines the text: sim seed, model, prompt, request seed. */
  key: string;
  /** Request limit (num_predict / max_tokens); undefined or negative = none. */
  limit: number | undefined;
  defaultTokens: number;
  stop: readonly string[];
  /** Produce a JSON object instead of prose; an object = JSON schema to follow loosely. */
  json: boolean | Record<string, unknown>;
}

/** Number of whitespace-separated words (the simulator's token count for prompts). */
export function countWords(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 160;
    if (space) inWord = false;
    else if (!inWord) {
      inWord = true;
      count++;
    }
  }
  return count;
}

/** Split text into tokens: each token = optional leading whitespace + one word. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function word(rng: Rng): string {
  return VOCABULARY[pick(rng, VOCABULARY.length)] ?? 'word';
}

function prose(rng: Rng, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(i === 0 ? word(rng) : ' ' + word(rng));
  return out;
}

function words(rng: Rng, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(word(rng));
  return out.join(' ');
}

/** A small value matching a JSON-schema fragment (loosely: type, enum, properties). */
export function sampleValue(schema: unknown, rng: Rng, key = ''): unknown {
  const s = typeof schema === 'object' && schema !== null ? (schema as Record<string, unknown>) : {};
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const type = Array.isArray(s.type) ? (s.type[0] as unknown) : s.type;
  switch (type) {
    case 'number':
      return Math.round(rng() * 1000) / 10;
    case 'integer':
      return pick(rng, 100);
    case 'boolean':
      return true;
    case 'array':
      return [sampleValue(s.items, rng)];
    case 'object':
      return sampleObject(s, rng);
    case 'null':
      return null;
    default:
      if (/loc|city|place|where/i.test(key)) return 'Paris';
      return words(rng, 2);
  }
}

function sampleObject(schema: Record<string, unknown>, rng: Rng): Record<string, unknown> {
  const props = schema.properties;
  const out: Record<string, unknown> = {};
  if (typeof props === 'object' && props !== null) {
    for (const [k, v] of Object.entries(props)) out[k] = sampleValue(v, rng, k);
  }
  return out;
}

function jsonText(spec: TextSpec, rng: Rng): string {
  let value: unknown;
  const schema = spec.json;
  if (typeof schema === 'object' && typeof schema.properties === 'object' && schema.properties !== null) {
    value = sampleObject(schema, rng);
  } else {
    value = { response: words(rng, Math.max(1, spec.defaultTokens - 1)) };
  }
  // Spaces after ':' and ',' so the object splits into several word tokens.
  return JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ').replace('{ ', '{').replace(/ }$/, '}');
}

/** Plan the output for one generation request. Pure function of spec. */
export function planText(spec: TextSpec): TextPlan {
  const rng = createRng(hash32(spec.key));
  const limit = spec.limit !== undefined && spec.limit >= 0 ? Math.floor(spec.limit) : Infinity;
  let full: string[];
  if (spec.json === false) full = prose(rng, spec.defaultTokens);
  else full = tokenize(jsonText(spec, rng));
  let finishReason: FinishReason = 'stop';
  let pieces = full;
  if (limit < full.length) {
    pieces = full.slice(0, limit);
    finishReason = 'length';
  }
  if (spec.stop.length > 0) {
    const text = pieces.join('');
    let cut = -1;
    for (const s of spec.stop) {
      if (s === '') continue;
      const at = text.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      pieces = tokenize(text.slice(0, cut));
      finishReason = 'stop';
    }
  }
  return { pieces, finishReason };
}

export interface SimToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** Matches the tool-call trigger word in the last message (documented in README.md). */
export const TOOL_TRIGGER = /\bweather\b/i;

/** Build the deterministic call to `tool` (an OpenAI/Ollama tool definition). */
export function planToolCall(tool: unknown, key: string): SimToolCall | undefined {
  if (typeof tool !== 'object' || tool === null) return undefined;
  const fn = (tool as Record<string, unknown>).function;
  if (typeof fn !== 'object' || fn === null) return undefined;
  const { name, parameters } = fn as Record<string, unknown>;
  if (typeof name !== 'string') return undefined;
  const h = hash32(key);
  const params = typeof parameters === 'object' && parameters !== null ? parameters : {};
  const args = sampleObject(params as Record<string, unknown>, createRng(h));
  return { id: 'call_' + h.toString(16).padStart(8, '0'), name, arguments: args };
}

/** Deterministic pseudo token ids (Ollama's generate `context`). */
export function contextIds(text: string): number[] {
  return tokenize(text).map((t) => hash32(t.trim()) % 32000);
}
