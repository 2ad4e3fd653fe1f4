import type { z } from 'zod';
import { errors } from '../../errors/catalogue.js';
import { parseBody, zodToGatewayError } from '../../errors/validation.js';
import type { ChatMessage, ChatRequest, ToolCall, ToolDefinition } from '../../pipeline/types.js';
import { definedOnly } from '../openai/map-options.js';
import {
  imageBlockSchema,
  messagesBodySchema,
  textBlockSchema,
  thinkingBlockSchema,
  toolResultBlockSchema,
  toolUseBlockSchema,
  type AnthropicBlock,
  type AnthropicMessage,
  type MessagesBody,
} from './schema.js';

/** Anthropic `POST /v1/messages` body → internal ChatRequest (docs/protocols.md G.1). */

/**
 * Server-side tool execution a local model cannot honour: refused by name rather than ignored.
 * (`context_management`, server-side trimming of a long context, is accepted and ignored: the
 * answer is the same, only the context is not trimmed.)
 */
const REFUSED_FIELDS = ['container', 'mcp_servers'] as const;

function block<T extends z.ZodType>(schema: T, b: AnthropicBlock, param: string): z.output<T> {
  const r = schema.safeParse(b);
  if (!r.success) throw zodToGatewayError(r.error, param);
  return r.data;
}

const unsupportedBlock = (b: AnthropicBlock, param: string) =>
  errors.validation(`${param}: content block type '${b.type}' is not supported here`, `${param}.type`);

/** An image block → base64 bytes (ChatMessage.images). URL and file sources are refused. */
export function imageFromBlock(b: AnthropicBlock, param: string): string {
  const img = block(imageBlockSchema, b, param);
  if (img.source.type !== 'base64' || img.source.data === undefined) {
    throw errors.validation(
      `${param}.source: only base64 image sources are supported (got '${img.source.type}')`,
      `${param}.source.type`,
    );
  }
  return img.source.data;
}

/** A tool_result's content (string or text/image blocks) → text and images of a `tool` message. */
function toolResultMessage(b: AnthropicBlock, param: string, toolNames: Map<string, string>): ChatMessage {
  const r = block(toolResultBlockSchema, b, param);
  const texts: string[] = [];
  const images: string[] = [];
  if (typeof r.content === 'string') texts.push(r.content);
  else
    (r.content ?? []).forEach((c, k) => {
      const at = `${param}.content[${k}]`;
      if (c.type === 'text') texts.push(block(textBlockSchema, c, at).text);
      else if (c.type === 'image') images.push(imageFromBlock(c, at));
      else throw unsupportedBlock(c, at);
    });
  let content = texts.join('\n');
  // is_error has no field of its own downstream; the model reads it in the text.
  if (r.is_error === true) content = content ? `Error: ${content}` : 'Error';
  return definedOnly<ChatMessage>({
    role: 'tool',
    content,
    images: images.length > 0 ? images : undefined,
    toolCallId: r.tool_use_id,
    toolName: toolNames.get(r.tool_use_id),
  });
}

/**
 * One Anthropic message → one or more internal messages. A user turn's tool_result blocks become
 * `tool` messages (before its own text, as Anthropic requires them first); an assistant turn's
 * tool_use blocks become its toolCalls.
 */
function mapMessage(m: AnthropicMessage, i: number, toolNames: Map<string, string>): ChatMessage[] {
  const at = `messages[${i}]`;
  if (typeof m.content === 'string') return [{ role: m.role, content: m.content }];
  const texts: string[] = [];
  const images: string[] = [];
  const thinking: string[] = [];
  const calls: ToolCall[] = [];
  const results: ChatMessage[] = [];
  m.content.forEach((b, j) => {
    const param = `${at}.content[${j}]`;
    if (b.type === 'text') texts.push(block(textBlockSchema, b, param).text);
    else if (b.type === 'image' && m.role === 'user') images.push(imageFromBlock(b, param));
    else if (b.type === 'tool_result' && m.role === 'user')
      results.push(toolResultMessage(b, param, toolNames));
    else if (b.type === 'tool_use' && m.role === 'assistant') {
      const u = block(toolUseBlockSchema, b, param);
      toolNames.set(u.id, u.name);
      calls.push({ id: u.id, name: u.name, arguments: u.input });
    } else if (b.type === 'thinking' && m.role === 'assistant')
      thinking.push(block(thinkingBlockSchema, b, param).thinking);
    else if (b.type === 'redacted_thinking' && m.role === 'assistant') return;
    else throw unsupportedBlock(b, param);
  });
  const own = definedOnly<ChatMessage>({
    role: m.role,
    content: texts.join('\n'),
    images: images.length > 0 ? images : undefined,
    thinking: thinking.length > 0 ? thinking.join('\n') : undefined,
    toolCalls: calls.length > 0 ? calls : undefined,
  });
  // A user turn holding only tool results adds no empty user message after them.
  if (results.length > 0 && own.content === '' && own.images === undefined) return results;
  return [...results, own];
}

export function mapMessages(body: Pick<MessagesBody, 'system' | 'messages'>): ChatMessage[] {
  const out: ChatMessage[] = [];
  const system = typeof body.system === 'string' ? body.system : body.system?.map((b) => b.text).join('\n');
  if (system) out.push({ role: 'system', content: system });
  const toolNames = new Map<string, string>();
  body.messages.forEach((m, i) => out.push(...mapMessage(m, i, toolNames)));
  return out;
}

/**
 * Tools, with tool_choice applied: `none` offers no tools (the portable way to forbid calls), a
 * named `tool` offers only that one; `auto` and `any` offer all (docs/protocols.md G.1).
 */
export function mapTools(body: Pick<MessagesBody, 'tools' | 'tool_choice'>): ToolDefinition[] | undefined {
  const tools = body.tools ?? [];
  tools.forEach((t, i) => {
    if (t.type !== undefined && t.type !== null && t.type !== 'custom') {
      throw errors.validation(
        `tools[${i}]: server tool type '${t.type}' is not supported`,
        `tools[${i}].type`,
      );
    }
  });
  const choice = body.tool_choice;
  if (choice?.type === 'none' || tools.length === 0) return undefined;
  const offered = choice?.type === 'tool' ? tools.filter((t) => t.name === choice.name) : tools;
  if (choice?.type === 'tool' && offered.length === 0) {
    throw errors.validation(`tool_choice.name: no tool named '${choice.name}' in tools`, 'tool_choice.name');
  }
  return offered.map((t) =>
    definedOnly<ToolDefinition>({ name: t.name, description: t.description, parameters: t.input_schema }),
  );
}

function thinkFrom(thinking: MessagesBody['thinking']): boolean | undefined {
  if (thinking === undefined) return undefined;
  return thinking.type !== 'disabled';
}

export interface MappedMessages {
  request: ChatRequest;
  stopSequences: string[];
  /** Whether thinking output is wanted as `thinking` blocks. */
  thinking: boolean;
  /** tool_choice.disable_parallel_tool_use: at most one tool_use block in the answer. */
  singleToolUse: boolean;
}

export function mapMessagesRequest(body: unknown): MappedMessages {
  const b = parseBody(messagesBodySchema, body);
  for (const f of REFUSED_FIELDS) {
    if (b[f] !== undefined && b[f] !== null)
      throw errors.validation(`${f}: not supported by this gateway`, f);
  }
  const stop = b.stop_sequences && b.stop_sequences.length > 0 ? b.stop_sequences : undefined;
  const think = thinkFrom(b.thinking);
  const request = definedOnly<ChatRequest>({
    kind: 'chat',
    model: b.model,
    messages: mapMessages(b),
    options: definedOnly({
      temperature: b.temperature,
      topP: b.top_p,
      topK: b.top_k,
      maxTokens: b.max_tokens,
      stop,
    }),
    stream: b.stream === true,
    priority: 'interactive',
    cache: { use: true },
    tools: mapTools(b),
    format: b.output_config?.format?.schema ?? undefined,
    think,
  });
  const singleToolUse =
    b.tool_choice !== undefined && 'disable_parallel_tool_use' in b.tool_choice
      ? b.tool_choice.disable_parallel_tool_use === true
      : false;
  return { request, stopSequences: stop ?? [], thinking: think === true, singleToolUse };
}
