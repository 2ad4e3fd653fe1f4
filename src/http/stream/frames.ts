/*
 * The wire framings of streamed answers. Each JSON payload is one line, so text containing newlines
 * cannot break the framing. Sources: docs/protocols.md A.0 (NDJSON), C.3 (OpenAI SSE).
 */

/** SSE `data:` events, one per frame (OpenAI streams). */
export const sseData = (frames: readonly unknown[]): string =>
  frames.length === 1
    ? `data: ${JSON.stringify(frames[0])}\n\n`
    : frames.map((f) => `data: ${JSON.stringify(f)}\n\n`).join('');

/** The OpenAI stream terminator. */
export const SSE_DONE = 'data: [DONE]\n\n';

/** One named SSE event (`event:` + `data:`), as the v1 API, Anthropic and OpenAI Responses send. */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** NDJSON lines, one JSON object per line (Ollama streams). */
export const ndjson = (lines: readonly unknown[]): string =>
  lines.length === 1 ? `${JSON.stringify(lines[0])}\n` : lines.map((l) => `${JSON.stringify(l)}\n`).join('');

export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';
export const NDJSON_CONTENT_TYPE = 'application/x-ndjson';
