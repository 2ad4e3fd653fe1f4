import type { Config } from '../config/config.js';
import { toGenerationOptions, type V1Options } from './options.js';
import type { Pipeline, RequestContext } from './pipeline.js';
import { collect } from './stream.js';
import type { ChatMessage, ChatRequest, GenerateRequest, Priority } from './types.js';

/*
 * What /api/v1/* and the task handlers share: building a GenerationRequest from the v1 API's
 * inputs, running one to a complete answer, and running many at bounded concurrency. A new task
 * type or v1 route builds its requests here, so both paths cache, route and count alike.
 */

/** Who asks, which decides the request's lane and whether it may use the cache. */
export interface RequestMode {
  priority: Priority;
  /** false = bypass the response cache (use_cache:false). */
  useCache: boolean;
  stream?: boolean;
}

export interface PromptInput {
  prompt: string;
  model?: string | undefined;
  system?: string | undefined;
  options?: V1Options;
}

export interface MessagesInput {
  messages: ChatMessage[];
  model?: string | undefined;
  options?: V1Options;
}

export function generateRequest(p: PromptInput, cfg: Config, mode: RequestMode): GenerateRequest {
  return {
    kind: 'generate',
    model: p.model ?? cfg.defaultModel,
    prompt: p.prompt,
    ...(p.system !== undefined ? { system: p.system } : {}),
    options: toGenerationOptions(p.options, cfg),
    stream: mode.stream ?? false,
    priority: mode.priority,
    cache: { use: mode.useCache },
  };
}

export function chatRequest(p: MessagesInput, cfg: Config, mode: RequestMode): ChatRequest {
  return {
    kind: 'chat',
    model: p.model ?? cfg.defaultModel,
    messages: p.messages,
    options: toGenerationOptions(p.options, cfg),
    stream: mode.stream ?? false,
    priority: mode.priority,
    cache: { use: mode.useCache },
  };
}

/** A complete answer in the v1 API's shape (v1 batch items and task results). */
export interface V1Answer {
  response: string;
  model: string;
  finish_reason: string;
  usage: { prompt_tokens: number; completion_tokens: number };
}

/** Run one request through the pipeline and collect its answer; also says where it came from. */
export async function answer(
  pipeline: Pipeline,
  req: GenerateRequest | ChatRequest,
  ctx: RequestContext,
): Promise<{ answer: V1Answer; cache: string }> {
  const res = await pipeline.generate(req, ctx);
  const out = await collect(res.chunks);
  return {
    answer: {
      response: out.text,
      model: req.model,
      finish_reason: out.finishReason,
      usage: { prompt_tokens: out.usage.promptTokens, completion_tokens: out.usage.completionTokens },
    },
    cache: res.cache,
  };
}

/**
 * Run `fn` over `items` with at most `limit` in flight; results keep input order. Once `signal`
 * aborts, no further item starts (those already running see the signal themselves).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
  signal?: { readonly aborted: boolean },
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length && !signal?.aborted) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
