import { z } from 'zod';
import { errors } from '../../errors/catalogue.js';
import type { EmbedRequest, GenerateRequest } from '../../pipeline/types.js';
import { definedOnly, samplingShape, toGenerationOptions } from './map-options.js';
import { parseBody } from '../../errors/validation.js';
import { refuseUnknownFields } from '../fields.js';

/** OpenAI `/v1/completions` and `/v1/embeddings` bodies → internal requests (docs/protocols.md C.4, C.5). */

export const completionBodySchema = z.object({
  ...samplingShape,
  model: z.string().min(1),
  prompt: z.union([z.string(), z.array(z.string()).length(1, 'only a single prompt is supported')], {
    error: 'expected a string (token arrays are not supported)',
  }),
  suffix: z.string().nullish(),
  top_k: z.number().int().min(0).nullish(),
  user: z.string().nullish(),
  logprobs: z
    .number()
    .nullish()
    .refine(
      (v) => v === null || v === undefined,
      'logprobs is not supported on /v1/completions; use /v1/chat/completions with logprobs: true',
    ),
});

const COMPLETION_FIELDS: ReadonlySet<string> = new Set(Object.keys(completionBodySchema.shape));

export interface MappedCompletion {
  request: GenerateRequest;
  includeUsage: boolean;
}

export function mapCompletionRequest(body: unknown): MappedCompletion {
  refuseUnknownFields(body, COMPLETION_FIELDS);
  const b = parseBody(completionBodySchema, body);
  if (b.n !== null && b.n !== undefined && b.n > 1) throw errors.validation('n: only n=1 is supported', 'n');
  const prompt = typeof b.prompt === 'string' ? b.prompt : (b.prompt[0] ?? '');
  const request = definedOnly<GenerateRequest>({
    kind: 'generate',
    model: b.model,
    prompt,
    suffix: b.suffix ?? undefined,
    options: definedOnly({ ...toGenerationOptions(b, b.max_tokens), topK: b.top_k ?? undefined }),
    stream: b.stream === true,
    priority: 'interactive',
    cache: { use: true },
  });
  return { request, includeUsage: b.stream === true && b.stream_options?.include_usage === true };
}

export type EmbeddingEncoding = 'float' | 'base64';

export const embeddingBodySchema = z.object({
  model: z.string().min(1),
  input: z.union(
    [
      z.string(),
      z.array(z.string()),
      z.array(z.number().int().min(0)),
      z.array(z.array(z.number().int().min(0))),
    ],
    { error: 'expected a string, an array of strings, a token array or an array of token arrays' },
  ),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().min(1).nullish(),
  user: z.string().nullish(),
});

const EMBEDDING_FIELDS: ReadonlySet<string> = new Set(Object.keys(embeddingBodySchema.shape));

/** OpenAI's four input forms → texts or token arrays (never both). */
function embeddingInput(input: z.output<typeof embeddingBodySchema>['input']): {
  input: string[];
  tokens?: number[][];
} {
  if (typeof input === 'string') return { input: [input] };
  if (input.length === 0) return { input: [] };
  const first = input[0];
  if (typeof first === 'string') return { input: input as string[] };
  if (typeof first === 'number') return { input: [], tokens: [input as number[]] };
  return { input: [], tokens: input as number[][] };
}

export interface MappedEmbedding {
  request: EmbedRequest;
  encoding: EmbeddingEncoding;
}

export function mapEmbeddingRequest(body: unknown): MappedEmbedding {
  refuseUnknownFields(body, EMBEDDING_FIELDS);
  const b = parseBody(embeddingBodySchema, body);
  const { input, tokens } = embeddingInput(b.input);
  if (input.length === 0 && (tokens === undefined || tokens.some((t) => t.length === 0)))
    throw errors.validation('input: must not be empty', 'input');
  const request = definedOnly<EmbedRequest>({
    kind: 'embed',
    model: b.model,
    input,
    tokens,
    dimensions: b.dimensions ?? undefined,
    priority: 'interactive',
    cache: { use: true },
  });
  return { request, encoding: b.encoding_format ?? 'float' };
}
