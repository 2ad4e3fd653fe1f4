import type { Chunk, FinishReason, Usage } from '../../pipeline/types.js';
import { SSE_CONTENT_TYPE, sseEvent } from '../stream/frames.js';
import type { StreamRenderer } from '../stream/writer.js';
import { anthropicErrorBody } from './errors.js';
import { stopReason, toAnthropicUsage, toolUseBlock, type MessageMeta } from './map-response.js';

/**
 * Anthropic's streamed Message (docs/protocols.md G.3): `message_start`, then per content block
 * `content_block_start` / `content_block_delta`… / `content_block_stop` (a `ping` after the first
 * block opens), then `message_delta` (stop_reason, usage) and `message_stop`. Each event is a
 * named SSE event whose data repeats the name in `type`.
 */

type BlockKind = 'text' | 'thinking';

export interface AnthropicStreamMapper {
  start: () => string;
  map: (chunk: Chunk) => string;
  end: () => string;
}

export function createAnthropicStreamMapper(meta: MessageMeta): AnthropicStreamMapper {
  let index = -1;
  let open: BlockKind | undefined;
  let pinged = false;
  let sawTools = false;
  let finished = false;

  const ev = (type: string, data: Record<string, unknown>) => sseEvent(type, { type, ...data });
  const ping = () => {
    if (pinged) return '';
    pinged = true;
    return ev('ping', {});
  };
  const closeBlock = () => {
    if (open === undefined) return '';
    open = undefined;
    return ev('content_block_stop', { index });
  };
  const openBlock = (kind: BlockKind) => {
    if (open === kind) return '';
    let out = closeBlock();
    open = kind;
    index++;
    const block =
      kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
    out += ev('content_block_start', { index, content_block: block });
    return out + ping();
  };
  const closing = (reason: FinishReason, usage: Usage) => {
    finished = true;
    const u = toAnthropicUsage(usage);
    return (
      closeBlock() +
      ping() +
      ev('message_delta', {
        delta: { stop_reason: stopReason(reason, sawTools), stop_sequence: null },
        usage: { input_tokens: u.input_tokens, output_tokens: u.output_tokens },
      }) +
      ev('message_stop', {})
    );
  };

  return {
    start: () =>
      ev('message_start', {
        message: {
          id: meta.id,
          type: 'message',
          role: 'assistant',
          model: meta.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          // Counts are known only at the end; message_delta carries them.
          usage: { ...toAnthropicUsage({ promptTokens: 0, completionTokens: 0 }) },
        },
      }),
    map(chunk) {
      if (finished) return '';
      switch (chunk.type) {
        case 'delta': {
          let out = '';
          if (chunk.thinking && meta.thinking) {
            out += openBlock('thinking');
            out += ev('content_block_delta', {
              index,
              delta: { type: 'thinking_delta', thinking: chunk.thinking },
            });
          }
          if (chunk.text !== '') {
            out += openBlock('text');
            // Once per token: written by hand, the same JSON as ev() would make.
            out += `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":${JSON.stringify(chunk.text)}}}\n\n`;
          }
          return out;
        }
        case 'tool_calls': {
          let out = '';
          for (const call of chunk.calls) {
            if (meta.singleToolUse && sawTools) break;
            sawTools = true;
            out += closeBlock();
            index++;
            const { id, name, input } = toolUseBlock(call);
            out += ev('content_block_start', {
              index,
              content_block: { type: 'tool_use', id, name, input: {} },
            });
            out += ping();
            out += ev('content_block_delta', {
              index,
              delta: { type: 'input_json_delta', partial_json: JSON.stringify(input) },
            });
            out += ev('content_block_stop', { index });
          }
          return out;
        }
        case 'done':
          return closing(chunk.finishReason, chunk.usage);
      }
    },
    end: () => (finished ? '' : closing('stop', { promptTokens: 0, completionTokens: 0 })),
  };
}

/** The StreamRenderer for writeGeneration: the mapper's events, or one `error` event. */
export function anthropicStream(meta: MessageMeta): StreamRenderer {
  const m = createAnthropicStreamMapper(meta);
  return {
    contentType: SSE_CONTENT_TYPE,
    start: m.start,
    chunk: m.map,
    end: m.end,
    error: (err) => sseEvent('error', anthropicErrorBody(err)),
  };
}
