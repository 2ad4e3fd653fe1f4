import { z } from 'zod';
import { errors } from '../../errors/catalogue.js';
import type {
  ChatMessage,
  ChatRequest,
  OutputFormat,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from '../../pipeline/types.js';
import { refuseUnknownFields } from '../fields.js';
import { definedOnly, samplingShape, toGenerationOptions } from './map-options.js';
import { parseBody } from '../../errors/validation.js';

/** OpenAI `POST /v1/chat/completions` body → internal ChatRequest (docs/protocols.md C.1, B). */

const contentPart = z
  .object({
    type: z.string(),
    text: z.string().optional(),
    refusal: z.string().optional(),
    image_url: z.object({ url: z.string(), detail: z.string().optional() }).optional(),
  })
  .loose();

const toolCallSchema = z.object({
  id: z.string(),
  type: z.literal('function').optional(),
  function: z.object({ name: z.string().min(1), arguments: z.string().nullish() }),
});

const messageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
  name: z.string().nullish(),
  tool_calls: z.array(toolCallSchema).nullish(),
  tool_call_id: z.string().nullish(),
});

const toolSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});

const responseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).nullish(),
    }),
  }),
]);

const REASONING = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'ultra', 'max'] as const;

export const chatBodySchema = z.object({
  ...samplingShape,
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  max_completion_tokens: z.number().int().min(1).nullish(),
  response_format: responseFormatSchema.nullish(),
  tools: z.array(toolSchema).nullish(),
  tool_choice: z
    .union([
      z.enum(['none', 'auto', 'required']),
      z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) }),
    ])
    .nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  top_k: z.number().int().min(0).nullish(),
  // Accepted with no effect on the answer (bookkeeping on OpenAI's side).
  user: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  store: z.boolean().nullish(),
  service_tier: z.string().nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  prompt_cache_key: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  logit_bias: z
    .record(z.string(), z.number())
    .nullish()
    .refine((v) => !v || Object.keys(v).length === 0, 'logit_bias is not supported (only {} or null)'),
  reasoning_effort: z.enum(REASONING).nullish(),
  reasoning: z.object({ effort: z.enum(REASONING).nullish() }).nullish(),
});

export type OpenAIChatBody = z.output<typeof chatBodySchema>;

const CHAT_FIELDS: ReadonlySet<string> = new Set(Object.keys(chatBodySchema.shape));
type Message = z.output<typeof messageSchema>;

export interface MappedChat {
  request: ChatRequest;
  /** stream_options.include_usage: emit the trailing usage chunk. */
  includeUsage: boolean;
}

/** Reasoning effort → Ollama `think` (none → off; minimal → low; xhigh/ultra → max). */
export function thinkFromEffort(
  effort: (typeof REASONING)[number] | null | undefined,
): boolean | string | undefined {
  switch (effort) {
    case null:
    case undefined:
      return undefined;
    case 'none':
      return false;
    case 'minimal':
      return 'low';
    case 'xhigh':
    case 'ultra':
      return 'max';
    default:
      return effort;
  }
}

export function formatFromResponseFormat(rf: OpenAIChatBody['response_format']): OutputFormat | undefined {
  if (!rf || rf.type === 'text') return undefined;
  if (rf.type === 'json_object') return 'json';
  return rf.json_schema.schema ?? 'json';
}

/** `data:image/png;base64,AAAA` → `AAAA`. Remote URLs are refused: local models get bytes, not links. */
export function imageFromUrl(url: string, param: string): string {
  const m = /^data:[^,]*;base64,(.*)$/s.exec(url);
  if (!m?.[1]) throw errors.validation(`${param}: only base64 data: URLs are supported for images`, param);
  return m[1];
}

function mapContent(content: Message['content'], at: string): { content: string; images?: string[] } {
  if (content === null || content === undefined) return { content: '' };
  if (typeof content === 'string') return { content };
  const texts: string[] = [];
  const images: string[] = [];
  content.forEach((part, j) => {
    const param = `${at}.content[${j}]`;
    if (part.type === 'text' && part.text !== undefined) texts.push(part.text);
    else if (part.type === 'refusal' && part.refusal !== undefined) texts.push(part.refusal);
    else if (part.type === 'image_url' && part.image_url)
      images.push(imageFromUrl(part.image_url.url, `${param}.image_url.url`));
    else throw errors.validation(`${param}: unsupported content part type '${part.type}'`, `${param}.type`);
  });
  return images.length > 0 ? { content: texts.join('\n'), images } : { content: texts.join('\n') };
}

/** OpenAI tool-call arguments (a JSON string) → object; `""` counts as `{}`. */
export function parseArguments(args: string | null | undefined, param: string): Record<string, unknown> {
  if (args === null || args === undefined || args.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw errors.validation(`${param}: tool call arguments are not valid JSON`, param);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw errors.validation(`${param}: tool call arguments must be a JSON object`, param);
  }
  return parsed as Record<string, unknown>;
}

export function mapMessages(messages: Message[]): ChatMessage[] {
  const toolNames = new Map<string, string>();
  return messages.map((m, i) => {
    const at = `messages[${i}]`;
    const base = mapContent(m.content, at);
    switch (m.role) {
      case 'system':
      case 'developer':
      case 'user':
        return { role: m.role === 'developer' ? 'system' : m.role, ...base };
      case 'assistant': {
        const calls: ToolCall[] = (m.tool_calls ?? []).map((tc, j) => {
          toolNames.set(tc.id, tc.function.name);
          const args = parseArguments(tc.function.arguments, `${at}.tool_calls[${j}].function.arguments`);
          return { id: tc.id, name: tc.function.name, arguments: args };
        });
        return calls.length > 0
          ? { role: 'assistant', ...base, toolCalls: calls }
          : { role: 'assistant', ...base };
      }
      case 'tool': {
        const id = m.tool_call_id ?? undefined;
        const name = (id !== undefined ? toolNames.get(id) : undefined) ?? m.name ?? undefined;
        return definedOnly<ChatMessage>({ role: 'tool', ...base, toolCallId: id, toolName: name });
      }
      case 'function':
        // Legacy function-calling result: `name` is the function's name.
        return definedOnly<ChatMessage>({ role: 'tool', ...base, toolName: m.name ?? undefined });
    }
  });
}

export function mapTools(tools: OpenAIChatBody['tools']): ToolDefinition[] | undefined {
  if (!tools || tools.length === 0) return undefined;
  return tools.map((t) =>
    definedOnly<ToolDefinition>({
      name: t.function.name,
      description: t.function.description ?? undefined,
      parameters: t.function.parameters ?? undefined,
    }),
  );
}

/** `tool_choice` → internal form, checked against the tools offered (as OpenAI checks it). */
export function mapToolChoice(
  choice: OpenAIChatBody['tool_choice'],
  tools: ToolDefinition[] | undefined,
): ToolChoice | undefined {
  if (choice === null || choice === undefined) return undefined;
  if (choice === 'none' || choice === 'auto') return choice;
  if (tools === undefined)
    throw errors.validation('tool_choice: requires a non-empty tools list', 'tool_choice');
  if (choice === 'required') return 'required';
  const name = choice.function.name;
  if (!tools.some((t) => t.name === name))
    throw errors.validation(`tool_choice: no tool named '${name}' in tools`, 'tool_choice.function.name');
  return { name };
}

/** `logprobs`/`top_logprobs` → the number of alternatives wanted (undefined = none). */
export function mapLogprobs(
  logprobs: boolean | null | undefined,
  top: number | null | undefined,
): number | undefined {
  if (logprobs !== true) {
    if (top !== null && top !== undefined)
      throw errors.validation('top_logprobs: requires logprobs to be true', 'top_logprobs');
    return undefined;
  }
  return top ?? 0;
}

export function mapChatRequest(body: unknown): MappedChat {
  refuseUnknownFields(body, CHAT_FIELDS);
  const b = parseBody(chatBodySchema, body);
  if (b.n !== null && b.n !== undefined && b.n > 1) throw errors.validation('n: only n=1 is supported', 'n');
  const tools = mapTools(b.tools);
  const options = toGenerationOptions(b, b.max_completion_tokens ?? b.max_tokens);
  if (b.top_k !== null && b.top_k !== undefined) options.topK = b.top_k;
  const request = definedOnly<ChatRequest>({
    kind: 'chat',
    model: b.model,
    messages: mapMessages(b.messages),
    options,
    stream: b.stream === true,
    priority: 'interactive',
    cache: { use: true },
    tools,
    toolChoice: mapToolChoice(b.tool_choice, tools),
    logprobs: mapLogprobs(b.logprobs, b.top_logprobs),
    format: formatFromResponseFormat(b.response_format),
    think: thinkFromEffort(b.reasoning_effort ?? b.reasoning?.effort),
  });
  return { request, includeUsage: b.stream === true && b.stream_options?.include_usage === true };
}
