import { z } from 'zod';
import type { Config } from '../../config/config.js';
import type { GenerationOptions } from '../../pipeline/types.js';

/** Ollama-style options accepted by /api/v1/*; unknown keys are passed through to Ollama upstreams. */
export const v1Options = z
  .looseObject({
    temperature: z.number().min(0).max(2).optional(),
    num_predict: z.number().int().min(-2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().min(0).optional(),
    seed: z.number().int().optional(),
    stop: z.union([z.string(), z.array(z.string())]).optional(),
    repeat_penalty: z.number().optional(),
    presence_penalty: z.number().optional(),
    frequency_penalty: z.number().optional(),
    num_ctx: z.number().int().positive().optional(),
  })
  .optional();

const modelName = z.string().min(1).max(256);

export const chatBody = z.object({
  message: z.string().min(1, 'must be a non-empty string'),
  model: modelName.optional(),
  system: z.string().optional(),
  options: v1Options,
  use_cache: z.boolean().optional(),
});
export type ChatBody = z.output<typeof chatBody>;

export function batchBody(maxItems: number) {
  return z.object({
    prompts: z
      .array(z.string().min(1, 'must be a non-empty string'))
      .min(1, 'must contain at least one prompt')
      .max(maxItems, `at most ${maxItems} prompts per batch`),
    model: modelName.optional(),
    system: z.string().optional(),
    options: v1Options,
    use_cache: z.boolean().optional(),
  });
}

const KNOWN = new Set([
  'temperature',
  'num_predict',
  'top_p',
  'top_k',
  'seed',
  'stop',
  'repeat_penalty',
  'presence_penalty',
  'frequency_penalty',
  'num_ctx',
]);

/** v1 options → internal options, with the configured defaults (the seed's num_predict/temperature). */
export function toGenerationOptions(o: z.output<typeof v1Options>, cfg: Config): GenerationOptions {
  const out: GenerationOptions = {
    maxTokens: cfg.defaultNumPredict,
    temperature: cfg.defaultTemperature,
  };
  if (!o) return out;
  if (o.temperature !== undefined) out.temperature = o.temperature;
  if (o.num_predict !== undefined) out.maxTokens = o.num_predict;
  if (o.top_p !== undefined) out.topP = o.top_p;
  if (o.top_k !== undefined) out.topK = o.top_k;
  if (o.seed !== undefined) out.seed = o.seed;
  if (o.stop !== undefined) out.stop = typeof o.stop === 'string' ? [o.stop] : o.stop;
  if (o.repeat_penalty !== undefined) out.repeatPenalty = o.repeat_penalty;
  if (o.presence_penalty !== undefined) out.presencePenalty = o.presence_penalty;
  if (o.frequency_penalty !== undefined) out.frequencyPenalty = o.frequency_penalty;
  if (o.num_ctx !== undefined) out.numCtx = o.num_ctx;
  let extra: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(o)) {
    if (!KNOWN.has(k)) (extra ??= {})[k] = v;
  }
  if (extra) out.extra = extra;
  return out;
}
