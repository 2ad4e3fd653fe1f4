import type { GatewayError } from '../../errors/catalogue.js';
import type { Chunk, FinishReason, Usage } from '../../pipeline/types.js';
import { openAIErrorBody } from '../openai/errors.js';
import { SSE_CONTENT_TYPE, sseEvent } from '../stream/frames.js';
import type { StreamRenderer } from '../stream/writer.js';
import {
  functionCallItem,
  functionCallItemId,
  messageItem,
  messageItemId,
  outputText,
  reasoningItem,
  reasoningItemId,
  reasoningText,
  responseObject,
  statusFor,
  type OutputItem,
  type ResponseMeta,
} from './map-response.js';

/**
 * The Responses API stream (docs/protocols.md H.3): named SSE events, each with a growing
 * `sequence_number`: `response.created`, `response.in_progress`, then per output item
 * `response.output_item.added` … `response.output_item.done` (text: `content_part.added`,
 * `output_text.delta`…, `output_text.done`, `content_part.done`; a function call:
 * `function_call_arguments.delta`, `.done`), then `response.completed` (or `response.incomplete`
 * when the token limit cut it). A failure part-way: `error`, then `response.failed`.
 */

export interface ResponsesStreamMapper {
  start: () => string;
  map: (chunk: Chunk) => string;
  end: () => string;
  error: (err: GatewayError) => string;
}

export function createResponsesStreamMapper(meta: ResponseMeta): ResponsesStreamMapper {
  let seq = 0;
  let finished = false;
  const output: OutputItem[] = [];
  let msg: { id: string; index: number; text: string } | undefined;
  let rs: { id: string; index: number; text: string } | undefined;

  const ev = (type: string, data: Record<string, unknown>) =>
    sseEvent(type, { type, sequence_number: seq++, ...data });

  const closeMessage = (status: 'completed' | 'incomplete') => {
    if (!msg) return '';
    const { id, index, text } = msg;
    msg = undefined;
    const item = messageItem(id, text, status);
    output[index] = item;
    const at = { item_id: id, output_index: index, content_index: 0 };
    return (
      ev('response.output_text.done', { ...at, text, logprobs: [] }) +
      ev('response.content_part.done', { ...at, part: outputText(text) }) +
      ev('response.output_item.done', { output_index: index, item })
    );
  };

  const closeReasoning = (status: 'completed' | 'incomplete') => {
    if (!rs) return '';
    const { id, index, text } = rs;
    rs = undefined;
    const item = reasoningItem(id, text, status);
    output[index] = item;
    const at = { item_id: id, output_index: index, content_index: 0 };
    return (
      ev('response.reasoning_text.done', { ...at, text }) +
      ev('response.content_part.done', { ...at, part: reasoningText(text) }) +
      ev('response.output_item.done', { output_index: index, item })
    );
  };

  /** Reasoning text: its item and content part opened on first use. */
  const reasoning = (delta: string) => {
    let out = closeMessage('completed');
    if (!rs) {
      rs = { id: reasoningItemId(), index: output.length, text: '' };
      const item = reasoningItem(rs.id, '', 'in_progress');
      output.push(item);
      out += ev('response.output_item.added', { output_index: rs.index, item });
      out += ev('response.content_part.added', {
        item_id: rs.id,
        output_index: rs.index,
        content_index: 0,
        part: reasoningText(''),
      });
    }
    rs.text += delta;
    return (
      out +
      ev('response.reasoning_text.delta', { item_id: rs.id, output_index: rs.index, content_index: 0, delta })
    );
  };

  const closing = (reason: FinishReason, usage: Usage) => {
    finished = true;
    const state = statusFor(reason);
    const itemStatus = state.status === 'completed' ? 'completed' : 'incomplete';
    const out = closeReasoning(itemStatus) + closeMessage(itemStatus);
    const type = state.status === 'completed' ? 'response.completed' : 'response.incomplete';
    return out + ev(type, { response: responseObject(meta, state, output, usage) });
  };

  const inProgress = () =>
    responseObject(meta, { status: 'in_progress', incomplete_details: null }, [], null);

  return {
    start: () =>
      ev('response.created', { response: inProgress() }) +
      ev('response.in_progress', { response: inProgress() }),
    map(chunk) {
      if (finished) return '';
      switch (chunk.type) {
        case 'delta': {
          let out = chunk.thinking ? reasoning(chunk.thinking) : '';
          if (chunk.text === '') return out;
          out += closeReasoning('completed');
          if (!msg) {
            msg = { id: messageItemId(), index: output.length, text: '' };
            const item = messageItem(msg.id, '', 'in_progress');
            output.push(item);
            out += ev('response.output_item.added', { output_index: msg.index, item });
            out += ev('response.content_part.added', {
              item_id: msg.id,
              output_index: msg.index,
              content_index: 0,
              part: outputText(''),
            });
          }
          msg.text += chunk.text;
          // The per-token event, written by hand (the same JSON as ev() would make): it runs once
          // per token, and a spread object plus a whole stringify cost ~2 µs each time.
          return (
            out +
            `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":${seq++},` +
            `"item_id":"${msg.id}","output_index":${msg.index},"content_index":0,"delta":${JSON.stringify(chunk.text)},"logprobs":[]}\n\n`
          );
        }
        case 'tool_calls': {
          let out = closeReasoning('completed') + closeMessage('completed');
          for (const call of chunk.calls) {
            // parallel_tool_calls: false → at most one call.
            if (meta.body.parallel_tool_calls === false && output.some((o) => o.type === 'function_call'))
              break;
            const id = functionCallItemId();
            const index = output.length;
            const started = functionCallItem(id, call, 'in_progress');
            const item = {
              ...started,
              arguments: JSON.stringify(call.arguments),
              status: 'completed' as const,
            };
            output.push(item);
            out += ev('response.output_item.added', { output_index: index, item: started });
            out += ev('response.function_call_arguments.delta', {
              item_id: id,
              output_index: index,
              delta: item.arguments,
            });
            out += ev('response.function_call_arguments.done', {
              item_id: id,
              output_index: index,
              name: item.name,
              arguments: item.arguments,
            });
            out += ev('response.output_item.done', { output_index: index, item });
          }
          return out;
        }
        case 'done':
          return closing(chunk.finishReason, chunk.usage);
      }
    },
    end: () => (finished ? '' : closing('stop', { promptTokens: 0, completionTokens: 0 })),
    error(err) {
      finished = true;
      const e = openAIErrorBody(err).error;
      const failed = responseObject(
        meta,
        { status: 'failed', incomplete_details: null, error: { code: 'server_error', message: e.message } },
        output,
        null,
      );
      return (
        ev('error', { code: e.code, message: e.message, param: e.param }) +
        ev('response.failed', { response: failed })
      );
    },
  };
}

/** The StreamRenderer for writeGeneration. */
export function responsesStream(meta: ResponseMeta): StreamRenderer {
  const m = createResponsesStreamMapper(meta);
  return { contentType: SSE_CONTENT_TYPE, start: m.start, chunk: m.map, end: m.end, error: m.error };
}
