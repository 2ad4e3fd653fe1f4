import { z } from 'zod';
import { v1Options } from '../../pipeline/options.js';

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
