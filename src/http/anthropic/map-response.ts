import { randomUUID } from 'node:crypto';
import type { Collected } from '../../pipeline/stream.js';
import type { FinishReason, ToolCall, Usage } from '../../pipeline/types.js';

/** Internal chunks → Anthropic Message objects (docs/protocols.md G.2). */

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use';

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicMessageBody {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

/** `msg_` + 32 hex digits (randomUUID draws from a pooled buffer: no crypto call per id). */
const hexId = (prefix: string): string => `${prefix}_${randomUUID().replaceAll('-', '')}`;
export const messageId = (): string => hexId('msg');
const toolUseId = (): string => hexId('toolu');

/**
 * Internal finish reason → Anthropic stop_reason. Upstreams (Ollama, OpenAI-compatible) do not
 * say which stop sequence ended a generation, so `stop_sequence` is reported only when the caller
 * knows the matched sequence; otherwise a natural stop is `end_turn` (docs/protocols.md G.2).
 */
export function stopReason(reason: FinishReason, sawToolCalls: boolean, matched?: string): StopReason {
  if (reason === 'length') return 'max_tokens';
  if (sawToolCalls || reason === 'tool_calls') return 'tool_use';
  return matched !== undefined ? 'stop_sequence' : 'end_turn';
}

export function toAnthropicUsage(u: Usage): AnthropicUsage {
  const input = Number.isFinite(u.promptTokens) ? u.promptTokens : 0;
  const output = Number.isFinite(u.completionTokens) ? u.completionTokens : 0;
  return {
    input_tokens: input,
    output_tokens: output,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
}

export function toolUseBlock(c: ToolCall): Extract<ContentBlock, { type: 'tool_use' }> {
  return { type: 'tool_use', id: c.id || toolUseId(), name: c.name, input: c.arguments };
}

export interface MessageMeta {
  id: string;
  model: string;
  /** Emit thinking text as `thinking` blocks (the request enabled thinking). */
  thinking: boolean;
  /** Keep only the first tool call (tool_choice.disable_parallel_tool_use). */
  singleToolUse?: boolean;
}

export function messageBody(meta: MessageMeta, c: Collected): AnthropicMessageBody {
  const content: ContentBlock[] = [];
  if (meta.thinking && c.thinking) content.push({ type: 'thinking', thinking: c.thinking, signature: '' });
  const calls = meta.singleToolUse ? c.toolCalls.slice(0, 1) : c.toolCalls;
  if (c.text !== '' || calls.length === 0) content.push({ type: 'text', text: c.text });
  for (const call of calls) content.push(toolUseBlock(call));
  return {
    id: meta.id,
    type: 'message',
    role: 'assistant',
    model: meta.model,
    content,
    stop_reason: stopReason(c.finishReason, calls.length > 0),
    stop_sequence: null,
    usage: toAnthropicUsage(c.usage),
  };
}
