import type { Collected } from '../../pipeline/stream.js';
import type { Chunk, FinishReason, TokenLogprob, ToolCall, Usage } from '../../pipeline/types.js';

/** Internal chunks → OpenAI chat.completion / chat.completion.chunk objects (docs/protocols.md C.2, C.3). */

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAIToolCallDelta extends OpenAIToolCall {
  index: number;
}

export interface ChatDelta {
  role?: 'assistant';
  content?: string;
  /** Non-standard, as Ollama's /v1 layer sends it: the model's thinking text. */
  reasoning?: string;
  tool_calls?: OpenAIToolCallDelta[];
}

export interface OpenAITokenLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
  top_logprobs: { token: string; logprob: number; bytes: number[] | null }[];
}

/** `choice.logprobs` as OpenAI writes it (chat). */
export interface OpenAILogprobs {
  content: OpenAITokenLogprob[];
  refusal: null;
}

/** Internal log probabilities → OpenAI's `logprobs` object (bytes null when the upstream gave none). */
export function toOpenAILogprobs(list: readonly TokenLogprob[] | undefined): OpenAILogprobs | null {
  if (list === undefined) return null;
  return {
    content: list.map((t) => ({
      token: t.token,
      logprob: t.logprob,
      bytes: t.bytes ?? null,
      top_logprobs: (t.top ?? []).map((a) => ({
        token: a.token,
        logprob: a.logprob,
        bytes: a.bytes ?? null,
      })),
    })),
    refusal: null,
  };
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: 0;
    delta: ChatDelta;
    logprobs: OpenAILogprobs | null;
    finish_reason: FinishReason | null;
  }[];
  usage?: OpenAIUsage | null;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: 0;
    message: {
      role: 'assistant';
      content: string | null;
      refusal: null;
      reasoning?: string;
      tool_calls?: OpenAIToolCall[];
    };
    logprobs: OpenAILogprobs | null;
    finish_reason: FinishReason;
  }[];
  usage: OpenAIUsage;
}

/** Identity shared by every chunk of one response. */
export interface ResponseMeta {
  id: string;
  /** Unix seconds, fixed for the whole response. */
  created: number;
  model: string;
}

export function toOpenAIUsage(u: Usage): OpenAIUsage {
  // Ollama omits zero counts (docs/protocols.md E.9); the adapters default them, but stay defensive.
  const prompt = Number.isFinite(u.promptTokens) ? u.promptTokens : 0;
  const completion = Number.isFinite(u.completionTokens) ? u.completionTokens : 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function toOpenAIToolCall(c: ToolCall): OpenAIToolCall {
  return { id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } };
}

/** A call that stopped to call tools reports `tool_calls`, whatever the upstream said. */
export function finishReasonFor(reason: FinishReason, sawToolCalls: boolean): FinishReason {
  return sawToolCalls && reason === 'stop' ? 'tool_calls' : reason;
}

export interface ChatStreamMapper {
  /** The opening chunk: `delta: {role: "assistant", content: ""}`. */
  start: () => ChatCompletionChunk;
  /** Wire chunks for one internal chunk (possibly none). */
  map: (chunk: Chunk) => ChatCompletionChunk[];
  /** Closing chunks if the source ended without a `done` chunk (else none). */
  end: () => ChatCompletionChunk[];
}

export function createChatStreamMapper(meta: ResponseMeta, includeUsage: boolean): ChatStreamMapper {
  let toolIndex = 0;
  let finished = false;
  const make = (
    delta: ChatDelta,
    finish: FinishReason | null,
    logprobs: OpenAILogprobs | null = null,
  ): ChatCompletionChunk => ({
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, delta, logprobs, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const closing = (reason: FinishReason, usage: Usage): ChatCompletionChunk[] => {
    finished = true;
    const out = [make({}, finishReasonFor(reason, toolIndex > 0))];
    if (includeUsage) {
      out.push({
        id: meta.id,
        object: 'chat.completion.chunk',
        created: meta.created,
        model: meta.model,
        choices: [],
        usage: toOpenAIUsage(usage),
      });
    }
    return out;
  };
  return {
    start: () => make({ role: 'assistant', content: '' }, null),
    map(chunk) {
      if (finished) return [];
      switch (chunk.type) {
        case 'delta': {
          const delta: ChatDelta = {};
          if (chunk.text !== '') delta.content = chunk.text;
          if (chunk.thinking) delta.reasoning = chunk.thinking;
          const lp = toOpenAILogprobs(chunk.logprobs);
          return delta.content === undefined && delta.reasoning === undefined && lp === null
            ? []
            : [make(delta, null, lp)];
        }
        case 'tool_calls': {
          if (chunk.calls.length === 0) return [];
          const calls = chunk.calls.map((c) => ({ index: toolIndex++, ...toOpenAIToolCall(c) }));
          return [make({ tool_calls: calls }, null)];
        }
        case 'done':
          return closing(chunk.finishReason, chunk.usage);
      }
    },
    end: () => (finished ? [] : closing('stop', { promptTokens: 0, completionTokens: 0 })),
  };
}

export function chatCompletionBody(meta: ResponseMeta, c: Collected): ChatCompletion {
  const hasTools = c.toolCalls.length > 0;
  const message: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: hasTools && c.text === '' ? null : c.text,
    refusal: null,
  };
  if (c.thinking) message.reasoning = c.thinking;
  if (hasTools) message.tool_calls = c.toolCalls.map(toOpenAIToolCall);
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [
      {
        index: 0,
        message,
        logprobs: toOpenAILogprobs(c.logprobs),
        finish_reason: finishReasonFor(c.finishReason, hasTools),
      },
    ],
    usage: toOpenAIUsage(c.usage),
  };
}
