import type { z } from 'zod';
import { isGatewayError } from '../errors/catalogue.js';
import { toGenerationOptions, type v1Options } from '../pipeline/options.js';
import { collect } from '../pipeline/stream.js';
import type { ChatMessage, ChatRequest, EmbedRequest, GenerateRequest } from '../pipeline/types.js';
import { classifyError } from './outcome.js';
import type { TaskContext } from './types.js';

type Options = z.output<typeof v1Options>;

/** Token usage in the v1 API's shape. */
export interface TaskUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface GenerationTaskResult {
  response: string;
  model: string;
  finish_reason: string;
  usage: TaskUsage;
}

const caller = (ctx: TaskContext) => ({
  caller: { requestId: ctx.taskId, surface: 'task' as const },
  signal: ctx.signal,
});

async function generate(req: GenerateRequest | ChatRequest, ctx: TaskContext): Promise<GenerationTaskResult> {
  const res = await ctx.pipeline.generate(req, caller(ctx));
  const out = await collect(res.chunks);
  return {
    response: out.text,
    model: req.model,
    finish_reason: out.finishReason,
    usage: { prompt_tokens: out.usage.promptTokens, completion_tokens: out.usage.completionTokens },
  };
}

function generateRequest(
  p: { prompt: string; model?: string | undefined; system?: string | undefined; options?: Options },
  ctx: TaskContext,
): GenerateRequest {
  return {
    kind: 'generate',
    model: p.model ?? ctx.config.defaultModel,
    prompt: p.prompt,
    ...(p.system !== undefined ? { system: p.system } : {}),
    options: toGenerationOptions(p.options, ctx.config),
    stream: false,
    priority: 'background',
    cache: { use: true },
  };
}

export function runTextGeneration(
  p: { prompt: string; model?: string | undefined; system?: string | undefined; options?: Options },
  ctx: TaskContext,
): Promise<GenerationTaskResult> {
  return generate(generateRequest(p, ctx), ctx);
}

export function runChat(
  p: { messages: ChatMessage[]; model?: string | undefined; options?: Options },
  ctx: TaskContext,
): Promise<GenerationTaskResult> {
  return generate(
    {
      kind: 'chat',
      model: p.model ?? ctx.config.defaultModel,
      messages: p.messages,
      options: toGenerationOptions(p.options, ctx.config),
      stream: false,
      priority: 'background',
      cache: { use: true },
    },
    ctx,
  );
}

export interface EmbeddingTaskResult {
  model: string;
  embeddings: number[][];
  usage: { prompt_tokens: number };
}

export async function runEmbedding(
  p: { input: string | string[]; model?: string | undefined },
  ctx: TaskContext,
): Promise<EmbeddingTaskResult> {
  const req: EmbedRequest = {
    kind: 'embed',
    model: p.model ?? ctx.config.defaultModel,
    input: typeof p.input === 'string' ? [p.input] : p.input,
    priority: 'background',
    cache: { use: true },
  };
  const out = await ctx.pipeline.embed(req, caller(ctx));
  return {
    model: out.result.model,
    embeddings: out.result.embeddings,
    usage: { prompt_tokens: out.result.promptTokens },
  };
}

export type BatchItem =
  ({ index: number } & GenerationTaskResult) | { index: number; error: { code: string; message: string } };

export interface BatchTaskResult {
  results: BatchItem[];
  total: number;
  succeeded: number;
  failed: number;
}

/**
 * Many prompts, each with its own result or error, at most `batchConcurrency` at a time. If every
 * item failed, the task fails with the first error (retried when that error is transient).
 */
export async function runBatch(
  p: { prompts: string[]; model?: string | undefined; system?: string | undefined; options?: Options },
  ctx: TaskContext,
): Promise<BatchTaskResult> {
  const errorsSeen: unknown[] = [];
  const results = new Array<BatchItem>(p.prompts.length);
  let next = 0;
  const lane = async () => {
    while (next < p.prompts.length && !ctx.signal.aborted) {
      const index = next++;
      const prompt = p.prompts[index] ?? '';
      try {
        results[index] = { index, ...(await generate(generateRequest({ ...p, prompt }, ctx), ctx)) };
      } catch (err) {
        errorsSeen.push(err);
        const info = classifyError(err).error;
        results[index] = { index, error: info };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ctx.config.batchConcurrency, p.prompts.length) }, lane));
  ctx.signal.throwIfAborted();
  const failed = errorsSeen.length;
  if (failed === p.prompts.length) {
    const first = errorsSeen[0];
    throw isGatewayError(first) ? first : new Error(String(first));
  }
  return { results, total: results.length, succeeded: results.length - failed, failed };
}
