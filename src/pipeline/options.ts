import { z } from 'zod';
import type { Config } from '../config/config.js';
import type { GenerationOptions } from './types.js';

/*
 * Generation options as the v1 API (/api/v1/*) and task payloads write them, and their mapping to
 * the pipeline's GenerationOptions. Both the HTTP edge and the task queue use these, so they live
 * in the core rather than in http/.
 */

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

/** The options object as parsed (undefined when the request has none). */
export type V1Options = z.output<typeof v1Options>;

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
export function toGenerationOptions(o: V1Options, cfg: Config): GenerationOptions {
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
