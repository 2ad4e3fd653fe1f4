import { isGatewayError } from '../errors/catalogue.js';
import {
  answer,
  chatRequest,
  generateRequest,
  mapLimit,
  type MessagesInput,
  type PromptInput,
  type RequestMode,
  type V1Answer,
} from '../pipeline/requests.js';
import type { ChatRequest, EmbedRequest, GenerateRequest } from '../pipeline/types.js';
import { classifyError } from './outcome.js';
import type { TaskContext } from './types.js';

/** Token usage in the v1 API's shape. */
export type TaskUsage = V1Answer['usage'];

export type GenerationTaskResult = V1Answer;

/** Tasks run in the background lane and may answer from the cache. */
const TASK_MODE: RequestMode = { priority: 'background', useCache: true };

const caller = (ctx: TaskContext) => ({
  caller: { requestId: ctx.taskId, surface: 'task' as const },
  signal: ctx.signal,
});

async function generate(req: GenerateRequest | ChatRequest, ctx: TaskContext): Promise<GenerationTaskResult> {
  return (await answer(ctx.pipeline, req, caller(ctx))).answer;
}

export function runTextGeneration(p: PromptInput, ctx: TaskContext): Promise<GenerationTaskResult> {
  return generate(generateRequest(p, ctx.config, TASK_MODE), ctx);
}

export function runChat(p: MessagesInput, ctx: TaskContext): Promise<GenerationTaskResult> {
  return generate(chatRequest(p, ctx.config, TASK_MODE), ctx);
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
  p: Omit<PromptInput, 'prompt'> & { prompts: string[] },
  ctx: TaskContext,
): Promise<BatchTaskResult> {
  const errorsSeen: unknown[] = [];
  const results = await mapLimit(
    p.prompts,
    ctx.config.batchConcurrency,
    async (prompt, index): Promise<BatchItem> => {
      try {
        return { index, ...(await generate(generateRequest({ ...p, prompt }, ctx.config, TASK_MODE), ctx)) };
      } catch (err) {
        errorsSeen.push(err);
        return { index, error: classifyError(err).error };
      }
    },
    ctx.signal,
  );
  ctx.signal.throwIfAborted();
  const failed = errorsSeen.length;
  if (failed === p.prompts.length) {
    const first = errorsSeen[0];
    throw isGatewayError(first) ? first : new Error(String(first));
  }
  return { results, total: results.length, succeeded: results.length - failed, failed };
}
