import { z } from 'zod';
import type {
  ChatMessage,
  ChatRequest,
  EmbedRequest,
  GenerateRequest,
  GenerationOptions,
  OutputFormat,
  ToolCall,
  ToolDefinition,
} from '../../pipeline/types.js';
import { definedOnly, stopList } from '../openai/map-options.js';
import { parseArguments } from '../openai/map-chat-request.js';
import { parseBody } from '../../errors/validation.js';
import { refuseUnknownFields } from '../fields.js';

/** Ollama native `/api/chat`, `/api/generate`, `/api/embed`, `/api/embeddings` bodies → internal requests (docs/protocols.md A). */

const num = z.number().nullish();
const int = z.number().int().nullish();

/** Options Ollama and the internal model both name; anything else passes through in `extra`. */
const optionsSchema = z
  .object({
    temperature: num,
    top_p: num,
    top_k: int,
    seed: int,
    num_predict: int,
    stop: z.union([z.string(), z.array(z.string())]).nullish(),
    presence_penalty: num,
    frequency_penalty: num,
    repeat_penalty: num,
    num_ctx: int,
  })
  .loose();

const MAPPED_OPTIONS = new Set(Object.keys(optionsSchema.shape));

export function mapOptions(o: z.output<typeof optionsSchema> | null | undefined): GenerationOptions {
  if (!o) return {};
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o))
    if (!MAPPED_OPTIONS.has(k) && v !== undefined && v !== null) extra[k] = v;
  const np = o.num_predict;
  return definedOnly<GenerationOptions>({
    temperature: o.temperature ?? undefined,
    topP: o.top_p ?? undefined,
    topK: o.top_k ?? undefined,
    seed: o.seed ?? undefined,
    // Negative num_predict means "no limit" (-1) or "fill the context" (-2): leave the upstream default.
    maxTokens: np !== null && np !== undefined && np > 0 ? np : undefined,
    stop: stopList(o.stop),
    presencePenalty: o.presence_penalty ?? undefined,
    frequencyPenalty: o.frequency_penalty ?? undefined,
    repeatPenalty: o.repeat_penalty ?? undefined,
    numCtx: o.num_ctx ?? undefined,
    extra: Object.keys(extra).length > 0 ? extra : undefined,
  });
}

const formatSchema = z.union([z.literal('json'), z.literal(''), z.record(z.string(), z.unknown())]).nullish();
const keepAliveSchema = z.union([z.number(), z.string()]).nullish();
const thinkSchema = z.union([z.boolean(), z.string()]).nullish();

function mapFormat(f: z.output<typeof formatSchema>): OutputFormat | undefined {
  return f === '' || f === null || f === undefined ? undefined : f;
}

const toolCallSchema = z.object({
  id: z.string().nullish(),
  function: z.object({
    index: z.number().int().nullish(),
    name: z.string().min(1),
    arguments: z.union([z.record(z.string(), z.unknown()), z.string()]).nullish(),
  }),
});

const messageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().nullish(),
  images: z.array(z.string()).nullish(),
  thinking: z.string().nullish(),
  tool_calls: z.array(toolCallSchema).nullish(),
  tool_name: z.string().nullish(),
  tool_call_id: z.string().nullish(),
});

const toolSchema = z.object({
  type: z.literal('function').optional(),
  function: z.object({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});

const common = {
  model: z.string({ error: 'model is required' }).min(1, 'model is required'),
  options: optionsSchema.nullish(),
  stream: z.boolean().nullish(),
  keep_alive: keepAliveSchema,
  format: formatSchema,
  think: thinkSchema,
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
};

/** `logprobs`/`top_logprobs` → alternatives wanted (Ollama ignores top_logprobs without logprobs). */
function mapLogprobs(b: { logprobs?: boolean | null; top_logprobs?: number | null }): number | undefined {
  return b.logprobs === true ? (b.top_logprobs ?? 0) : undefined;
}

export const chatBodySchema = z.object({
  ...common,
  messages: z.array(messageSchema).nullish(),
  tools: z.array(toolSchema).nullish(),
});

type Message = z.output<typeof messageSchema>;

const CHAT_FIELDS: ReadonlySet<string> = new Set(Object.keys(chatBodySchema.shape));

export function mapMessages(messages: Message[]): ChatMessage[] {
  const toolNames = new Map<string, string>();
  return messages.map((m, i) => {
    const calls: ToolCall[] = (m.tool_calls ?? []).map((tc, j) => {
      // Ollama tool calls may have no id; a deterministic one keeps equal requests equal (cache keys).
      const id = tc.id ?? `call_${i}_${j}`;
      toolNames.set(id, tc.function.name);
      const args = tc.function.arguments;
      return {
        id,
        name: tc.function.name,
        arguments:
          typeof args === 'string'
            ? parseArguments(args, `messages[${i}].tool_calls[${j}].function.arguments`)
            : (args ?? {}),
      };
    });
    const callId = m.tool_call_id ?? undefined;
    return definedOnly<ChatMessage>({
      role: m.role,
      content: m.content ?? '',
      images: m.images && m.images.length > 0 ? m.images : undefined,
      thinking: m.thinking ?? undefined,
      toolCalls: calls.length > 0 ? calls : undefined,
      toolCallId: callId,
      toolName: m.tool_name ?? (callId !== undefined ? toolNames.get(callId) : undefined),
    });
  });
}

function mapTools(tools: z.output<typeof toolSchema>[] | null | undefined): ToolDefinition[] | undefined {
  if (!tools || tools.length === 0) return undefined;
  return tools.map((t) =>
    definedOnly<ToolDefinition>({
      name: t.function.name,
      description: t.function.description ?? undefined,
      parameters: t.function.parameters ?? undefined,
    }),
  );
}

/** Ollama streams unless the body says `"stream": false` explicitly. */
const streams = (s: boolean | null | undefined): boolean => s !== false;

export function mapChatRequest(body: unknown): ChatRequest {
  refuseUnknownFields(body, CHAT_FIELDS);
  const b = parseBody(chatBodySchema, body);
  return definedOnly<ChatRequest>({
    kind: 'chat',
    model: b.model,
    messages: mapMessages(b.messages ?? []),
    options: mapOptions(b.options),
    stream: streams(b.stream),
    priority: 'interactive',
    cache: { use: true },
    keepAlive: b.keep_alive ?? undefined,
    tools: mapTools(b.tools),
    format: mapFormat(b.format),
    think: b.think ?? undefined,
    logprobs: mapLogprobs(b),
  });
}

export const generateBodySchema = z.object({
  ...common,
  prompt: z.string().nullish(),
  suffix: z.string().nullish(),
  system: z.string().nullish(),
  images: z.array(z.string()).nullish(),
  raw: z.boolean().nullish(),
  // The gateway never returns `context`, so only an empty one can come back.
  context: z
    .array(z.number())
    .nullish()
    .refine((c) => !c || c.length === 0, 'context is not supported (send the conversation to /api/chat)'),
});

const GENERATE_FIELDS: ReadonlySet<string> = new Set(Object.keys(generateBodySchema.shape));

export function mapGenerateRequest(body: unknown): GenerateRequest {
  refuseUnknownFields(body, GENERATE_FIELDS);
  const b = parseBody(generateBodySchema, body);
  return definedOnly<GenerateRequest>({
    kind: 'generate',
    model: b.model,
    prompt: b.prompt ?? '',
    suffix: b.suffix ?? undefined,
    system: b.system ?? undefined,
    images: b.images && b.images.length > 0 ? b.images : undefined,
    raw: b.raw ?? undefined,
    options: mapOptions(b.options),
    stream: streams(b.stream),
    priority: 'interactive',
    cache: { use: true },
    keepAlive: b.keep_alive ?? undefined,
    format: mapFormat(b.format),
    think: b.think ?? undefined,
    logprobs: mapLogprobs(b),
  });
}

/** An empty chat or prompt only loads (or, with keep_alive 0, unloads) the model in Ollama. */
export function loadOnlyReason(req: ChatRequest | GenerateRequest): 'load' | 'unload' | undefined {
  const empty = req.kind === 'chat' ? req.messages.length === 0 : req.prompt === '' && !req.images;
  if (!empty) return undefined;
  return req.keepAlive === 0 || req.keepAlive === '0' ? 'unload' : 'load';
}

export const embedBodySchema = z.object({
  model: common.model,
  input: z.union([z.string(), z.array(z.string())], { error: 'invalid input type' }).nullish(),
  truncate: z.boolean().nullish(),
  dimensions: z.number().int().min(1).nullish(),
  options: optionsSchema.nullish(),
  keep_alive: keepAliveSchema,
});

const EMBED_FIELDS: ReadonlySet<string> = new Set(Object.keys(embedBodySchema.shape));

export function mapEmbedRequest(body: unknown): EmbedRequest {
  refuseUnknownFields(body, EMBED_FIELDS);
  const b = parseBody(embedBodySchema, body);
  const input = typeof b.input === 'string' ? (b.input === '' ? [] : [b.input]) : (b.input ?? []);
  const options = mapOptions(b.options);
  return definedOnly<EmbedRequest>({
    kind: 'embed',
    model: b.model,
    input,
    dimensions: b.dimensions ?? undefined,
    truncate: b.truncate ?? undefined,
    options: Object.keys(options).length > 0 ? options : undefined,
    keepAlive: b.keep_alive ?? undefined,
    priority: 'interactive',
    cache: { use: true },
  });
}

export const embeddingsBodySchema = z.object({
  model: common.model,
  prompt: z.string().nullish(),
  options: optionsSchema.nullish(),
  keep_alive: keepAliveSchema,
});

/** Legacy `/api/embeddings`: one prompt, one vector. */
const EMBEDDINGS_FIELDS: ReadonlySet<string> = new Set(Object.keys(embeddingsBodySchema.shape));

export function mapEmbeddingsRequest(body: unknown): EmbedRequest {
  refuseUnknownFields(body, EMBEDDINGS_FIELDS);
  const b = parseBody(embeddingsBodySchema, body);
  const options = mapOptions(b.options);
  return definedOnly<EmbedRequest>({
    kind: 'embed',
    model: b.model,
    input: b.prompt ? [b.prompt] : [],
    options: Object.keys(options).length > 0 ? options : undefined,
    keepAlive: b.keep_alive ?? undefined,
    priority: 'interactive',
    cache: { use: true },
  });
}
