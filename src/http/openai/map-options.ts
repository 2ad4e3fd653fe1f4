import { z } from 'zod';
import type { GenerationOptions } from '../../pipeline/types.js';

/**
 * Sampling fields shared by /v1/chat/completions and /v1/completions. Every field accepts `null`
 * (several client libraries send explicit nulls for unset parameters).
 */
export const samplingShape = {
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  n: z.number().int().min(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
};

type Sampling = z.output<z.ZodObject<typeof samplingShape>>;

/** Copy only the keys whose value is defined, so equal requests produce equal objects (cache keys). */
export function definedOnly<T extends object>(o: T): T {
  // for-in, not Object.entries: no array of pairs per call (this runs several times a request).
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

export function stopList(stop: string | string[] | null | undefined): string[] | undefined {
  if (stop === null || stop === undefined) return undefined;
  const list = typeof stop === 'string' ? [stop] : stop;
  return list.length > 0 ? list : undefined;
}

/** OpenAI sampling fields → internal options. `maxTokens` is resolved by the caller (two spellings). */
export function toGenerationOptions(b: Sampling, maxTokens: number | null | undefined): GenerationOptions {
  return definedOnly<GenerationOptions>({
    temperature: b.temperature ?? undefined,
    topP: b.top_p ?? undefined,
    seed: b.seed ?? undefined,
    maxTokens: maxTokens ?? undefined,
    stop: stopList(b.stop),
    presencePenalty: b.presence_penalty ?? undefined,
    frequencyPenalty: b.frequency_penalty ?? undefined,
  });
}
