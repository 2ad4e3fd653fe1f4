import { z } from 'zod';
import { errors } from '../../errors/catalogue.js';
import type { EmbedRequest, GenerateRequest } from '../../pipeline/types.js';
import { definedOnly, samplingShape, toGenerationOptions } from './map-options.js';
import { parseBody } from '../../errors/validation.js';

/** OpenAI `/v1/completions` and `/v1/embeddings` bodies → internal requests (docs/protocols.md C.4, C.5). */

export const completionBodySchema = z.object({
  ...samplingShape,
  model: z.string().min(1),
  prompt: z.union([z.string(), z.array(z.string()).length(1, 'only a single prompt is supported')], {
    error: 'expected a string (token arrays are not supported)',
  }),
  suffix: z.string().nullish(),
});

export interface MappedCompletion {
  request: GenerateRequest;
  includeUsage: boolean;
}

export function mapCompletionRequest(body: unknown): MappedCompletion {
  const b = parseBody(completionBodySchema, body);
  if (b.n !== null && b.n !== undefined && b.n > 1) throw errors.validation('n: only n=1 is supported', 'n');
  const prompt = typeof b.prompt === 'string' ? b.prompt : (b.prompt[0] ?? '');
  const request = definedOnly<GenerateRequest>({
    kind: 'generate',
    model: b.model,
    prompt,
    suffix: b.suffix ?? undefined,
    options: toGenerationOptions(b, b.max_tokens),
    stream: b.stream === true,
    priority: 'interactive',
    cache: { use: true },
  });
  return { request, includeUsage: b.stream === true && b.stream_options?.include_usage === true };
}

export type EmbeddingEncoding = 'float' | 'base64';

export const embeddingBodySchema = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string())], {
    error: 'expected a string or an array of strings (token arrays are not supported)',
  }),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().min(1).nullish(),
});

export interface MappedEmbedding {
  request: EmbedRequest;
  encoding: EmbeddingEncoding;
}

export function mapEmbeddingRequest(body: unknown): MappedEmbedding {
  const b = parseBody(embeddingBodySchema, body);
  const input = typeof b.input === 'string' ? [b.input] : b.input;
  if (input.length === 0) throw errors.validation('input: must not be empty', 'input');
  const request = definedOnly<EmbedRequest>({
    kind: 'embed',
    model: b.model,
    input,
    dimensions: b.dimensions ?? undefined,
    priority: 'interactive',
    cache: { use: true },
  });
  return { request, encoding: b.encoding_format ?? 'float' };
}
