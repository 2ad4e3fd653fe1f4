import { randomUUID } from 'node:crypto';
import type { Collected } from '../../pipeline/stream.js';
import type { FinishReason, ToolCall, Usage } from '../../pipeline/types.js';
import type { ResponsesBody } from './schema.js';

/** Internal chunks → OpenAI Response objects and output items (docs/protocols.md H.2). */

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: never[];
  logprobs: never[];
}

export interface MessageItem {
  type: 'message';
  id: string;
  status: 'in_progress' | 'completed' | 'incomplete';
  role: 'assistant';
  content: OutputText[];
}

export interface FunctionCallItem {
  type: 'function_call';
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: 'in_progress' | 'completed' | 'incomplete';
}

export interface ReasoningText {
  type: 'reasoning_text';
  text: string;
}

/** The model's thinking (Ollama `thinking`), as a reasoning item with its text as content. */
export interface ReasoningItem {
  type: 'reasoning';
  id: string;
  summary: never[];
  content: ReasoningText[];
  status: 'in_progress' | 'completed' | 'incomplete';
}

export type OutputItem = ReasoningItem | MessageItem | FunctionCallItem;

export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  completed_at: number | null;
  status: ResponseStatus;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: null;
  reasoning: { effort: string | null; summary: null };
  store: false;
  temperature: number | null;
  text: { format: Record<string, unknown> };
  tool_choice: unknown;
  tools: Record<string, unknown>[];
  top_p: number | null;
  truncation: 'disabled';
  usage: ResponsesUsage | null;
  metadata: Record<string, string>;
}

/** prefix + 32 hex digits (randomUUID draws from a pooled buffer: no crypto call per id). */
const hexId = (prefix: string) => `${prefix}_${randomUUID().replaceAll('-', '')}`;
export const responseId = (): string => hexId('resp');
export const messageItemId = (): string => hexId('msg');
export const functionCallItemId = (): string => hexId('fc');
export const reasoningItemId = (): string => hexId('rs');

export function toResponsesUsage(u: Usage): ResponsesUsage {
  const input = Number.isFinite(u.promptTokens) ? u.promptTokens : 0;
  const output = Number.isFinite(u.completionTokens) ? u.completionTokens : 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

/** A generation cut by the token limit is `incomplete` (reason max_output_tokens); else `completed`. */
export function statusFor(reason: FinishReason): Pick<ResponseObject, 'status' | 'incomplete_details'> {
  return reason === 'length'
    ? { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }
    : { status: 'completed', incomplete_details: null };
}

export const outputText = (text: string): OutputText => ({
  type: 'output_text',
  text,
  annotations: [],
  logprobs: [],
});

export function messageItem(id: string, text: string, status: MessageItem['status']): MessageItem {
  return {
    type: 'message',
    id,
    status,
    role: 'assistant',
    content: text === '' && status === 'in_progress' ? [] : [outputText(text)],
  };
}

export const reasoningText = (text: string): ReasoningText => ({ type: 'reasoning_text', text });

export function reasoningItem(id: string, text: string, status: ReasoningItem['status']): ReasoningItem {
  return {
    type: 'reasoning',
    id,
    summary: [],
    content: text === '' && status === 'in_progress' ? [] : [reasoningText(text)],
    status,
  };
}

export function functionCallItem(
  id: string,
  c: ToolCall,
  status: FunctionCallItem['status'],
): FunctionCallItem {
  return {
    type: 'function_call',
    id,
    call_id: c.id || hexId('call'),
    name: c.name,
    arguments: status === 'in_progress' ? '' : JSON.stringify(c.arguments),
    status,
  };
}

export interface ResponseMeta {
  id: string;
  /** Unix seconds. */
  createdAt: number;
  model: string;
  body: ResponsesBody;
}

/** The Response object around `output`, echoing the request's settings as OpenAI does. */
export function responseObject(
  meta: ResponseMeta,
  state: Pick<ResponseObject, 'status' | 'incomplete_details'> & Partial<Pick<ResponseObject, 'error'>>,
  output: OutputItem[],
  usage: Usage | null,
): ResponseObject {
  const b = meta.body;
  const format = b.text?.format ?? { type: 'text' };
  return {
    id: meta.id,
    object: 'response',
    created_at: meta.createdAt,
    completed_at: state.status === 'in_progress' ? null : Math.floor(Date.now() / 1000),
    status: state.status,
    error: state.error ?? null,
    incomplete_details: state.incomplete_details,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    model: meta.model,
    output,
    parallel_tool_calls: b.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: b.reasoning?.effort ?? null, summary: null },
    store: false,
    temperature: b.temperature ?? null,
    text: { format },
    tool_choice: b.tool_choice ?? 'auto',
    tools: (b.tools ?? []).map((t) => ({ strict: null, description: null, parameters: null, ...t })),
    top_p: b.top_p ?? null,
    truncation: 'disabled',
    usage: usage ? toResponsesUsage(usage) : null,
    metadata: b.metadata ?? {},
  };
}

/** A whole non-streamed Response from a collected generation. */
export function responseBody(meta: ResponseMeta, c: Collected): ResponseObject {
  const state = statusFor(c.finishReason);
  const itemStatus = state.status === 'completed' ? 'completed' : 'incomplete';
  const output: OutputItem[] = [];
  if (c.thinking) output.push(reasoningItem(reasoningItemId(), c.thinking, itemStatus));
  if (c.text !== '' || c.toolCalls.length === 0)
    output.push(messageItem(messageItemId(), c.text, itemStatus));
  // parallel_tool_calls: false → at most one call.
  const calls = meta.body.parallel_tool_calls === false ? c.toolCalls.slice(0, 1) : c.toolCalls;
  for (const call of calls) output.push(functionCallItem(functionCallItemId(), call, 'completed'));
  return responseObject(meta, state, output, c.usage);
}
