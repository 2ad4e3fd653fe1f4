import { z } from 'zod';
import { errors } from '../../errors/catalogue.js';
import { parseBody, zodToGatewayError } from '../../errors/validation.js';
import type { ChatMessage, ChatRequest, OutputFormat, ToolDefinition } from '../../pipeline/types.js';
import { imageFromUrl, parseArguments, thinkFromEffort } from '../openai/map-chat-request.js';
import { definedOnly } from '../openai/map-options.js';
import {
  functionCallItemSchema,
  functionCallOutputItemSchema,
  inputImageSchema,
  inputTextSchema,
  messageItemSchema,
  responsesBodySchema,
  type InputItem,
  type ResponsesBody,
} from './schema.js';

/** OpenAI `POST /v1/responses` body → internal ChatRequest (docs/protocols.md H.1). */

function parse<T extends z.ZodType>(schema: T, v: unknown, param: string): z.output<T> {
  const r = schema.safeParse(v);
  if (!r.success) throw zodToGatewayError(r.error, param);
  return r.data;
}

const refusalSchema = z.object({ type: z.literal('refusal'), refusal: z.string() }).loose();

type Parts = readonly { type: string }[];

/** Content parts → text (joined with `\n`) and base64 images. */
function mapParts(parts: Parts, param: string): { content: string; images?: string[] } {
  const texts: string[] = [];
  const images: string[] = [];
  parts.forEach((p, k) => {
    const at = `${param}[${k}]`;
    if (p.type === 'input_text' || p.type === 'output_text') texts.push(parse(inputTextSchema, p, at).text);
    else if (p.type === 'refusal') texts.push(parse(refusalSchema, p, at).refusal);
    else if (p.type === 'input_image') {
      const img = parse(inputImageSchema, p, at);
      if (!img.image_url)
        throw errors.validation(
          `${at}: file_id images are not supported; send image_url as a data: URL`,
          `${at}.image_url`,
        );
      images.push(imageFromUrl(img.image_url, `${at}.image_url`));
    } else throw errors.validation(`${at}: content type '${p.type}' is not supported`, `${at}.type`);
  });
  return images.length > 0 ? { content: texts.join('\n'), images } : { content: texts.join('\n') };
}

/**
 * Input items → internal messages. Consecutive `function_call` items join one assistant message
 * (or the assistant message just before them); `function_call_output` becomes a `tool` message
 * named after its call; `reasoning` items (echoed back by clients) are skipped.
 */
export function mapInput(input: ResponsesBody['input'], instructions?: string | null): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (instructions) out.push({ role: 'system', content: instructions });
  if (typeof input === 'string') {
    out.push({ role: 'user', content: input });
    return out;
  }
  const names = new Map<string, string>();
  input.forEach((item: InputItem, i) => {
    const at = `input[${i}]`;
    const type = item.type ?? 'message';
    if (type === 'message') {
      const m = parse(messageItemSchema, item, at);
      const body =
        typeof m.content === 'string' ? { content: m.content } : mapParts(m.content, `${at}.content`);
      out.push({ role: m.role === 'developer' ? 'system' : m.role, ...body });
    } else if (type === 'function_call') {
      const c = parse(functionCallItemSchema, item, at);
      names.set(c.call_id, c.name);
      const call = { id: c.call_id, name: c.name, arguments: parseArguments(c.arguments, `${at}.arguments`) };
      const last = out.at(-1);
      if (last?.role === 'assistant') last.toolCalls = [...(last.toolCalls ?? []), call];
      else out.push({ role: 'assistant', content: '', toolCalls: [call] });
    } else if (type === 'function_call_output') {
      const o = parse(functionCallOutputItemSchema, item, at);
      const body = typeof o.output === 'string' ? { content: o.output } : mapParts(o.output, `${at}.output`);
      out.push(
        definedOnly<ChatMessage>({
          role: 'tool',
          ...body,
          toolCallId: o.call_id,
          toolName: names.get(o.call_id),
        }),
      );
    } else if (type === 'reasoning') return;
    else throw errors.validation(`${at}: input item type '${type}' is not supported`, `${at}.type`);
  });
  return out;
}

/**
 * Function tools with tool_choice applied: `none` offers none, a named function or an
 * `allowed_tools` list offers only those; `auto` and `required` offer all (docs/protocols.md H.1).
 */
export function mapTools(b: Pick<ResponsesBody, 'tools' | 'tool_choice'>): ToolDefinition[] | undefined {
  const tools = (b.tools ?? []).map((t, i) => {
    if (t.type !== 'function' || t.name === undefined) {
      throw errors.validation(
        `tools[${i}]: tool type '${t.type}' is not supported (function tools only)`,
        `tools[${i}].type`,
      );
    }
    return definedOnly<ToolDefinition>({
      name: t.name,
      description: t.description ?? undefined,
      parameters: t.parameters ?? undefined,
    });
  });
  const choice = b.tool_choice;
  if (choice === 'none' || tools.length === 0) return undefined;
  if (choice === null || choice === undefined || typeof choice === 'string') return tools;
  const wanted = new Set(choice.type === 'function' ? [choice.name] : choice.tools.map((t) => t.name));
  const offered = tools.filter((t) => wanted.has(t.name));
  if (offered.length === 0) throw errors.validation('tool_choice: names no tool in tools', 'tool_choice');
  return offered;
}

function formatOf(text: ResponsesBody['text']): OutputFormat | undefined {
  const f = text?.format;
  if (!f || f.type === 'text') return undefined;
  return f.type === 'json_object' ? 'json' : f.schema;
}

/** Fields we cannot honour without server-side state or features: refused by name. */
function refuseUnsupported(b: ResponsesBody): void {
  if (b.previous_response_id) {
    throw errors.validation(
      'previous_response_id: responses are not stored by this gateway; send the whole conversation in input',
      'previous_response_id',
    );
  }
  if (b.background === true)
    throw errors.validation('background: background responses are not supported', 'background');
  if (b.conversation !== undefined && b.conversation !== null)
    throw errors.validation('conversation: conversations are not supported', 'conversation');
  if (b.prompt !== undefined && b.prompt !== null)
    throw errors.validation('prompt: stored prompts are not supported', 'prompt');
  if (b.top_logprobs !== undefined && b.top_logprobs !== null && b.top_logprobs > 0)
    throw errors.validation('top_logprobs: log probabilities are not supported', 'top_logprobs');
}

export interface MappedResponses {
  request: ChatRequest;
  body: ResponsesBody;
}

export function mapResponsesRequest(raw: unknown): MappedResponses {
  const b = parseBody(responsesBodySchema, raw);
  refuseUnsupported(b);
  const request = definedOnly<ChatRequest>({
    kind: 'chat',
    model: b.model,
    messages: mapInput(b.input, b.instructions),
    options: definedOnly({
      temperature: b.temperature ?? undefined,
      topP: b.top_p ?? undefined,
      maxTokens: b.max_output_tokens ?? undefined,
    }),
    stream: b.stream === true,
    priority: 'interactive',
    cache: { use: true },
    tools: mapTools(b),
    format: formatOf(b.text),
    think: thinkFromEffort(b.reasoning?.effort),
  });
  return { request, body: b };
}
