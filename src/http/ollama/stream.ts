import type { Chunk } from '../../pipeline/types.js';
import { NDJSON_CONTENT_TYPE, ndjson } from '../stream/frames.js';
import type { StreamRenderer } from '../stream/writer.js';
import { ollamaErrorBody } from './errors.js';

/** Maps internal chunks to the lines of one Ollama NDJSON stream. */
export interface LineSource {
  map(chunk: Chunk): unknown[];
  /** Lines after the last chunk: the `done:true` line if the source never sent `done`. */
  end(): unknown[];
}

/**
 * Ollama NDJSON: one JSON line per chunk; the stream always ends with a `done:true` line, or with
 * one `{"error":"..."}` line if it fails part-way (ollama-js throws on it).
 */
export function ollamaStream(lines: LineSource): StreamRenderer {
  return {
    contentType: NDJSON_CONTENT_TYPE,
    start: () => '',
    chunk(c) {
      const mapped = lines.map(c);
      return mapped.length > 0 ? ndjson(mapped) : '';
    },
    end() {
      const tail = lines.end();
      return tail.length > 0 ? ndjson(tail) : '';
    },
    error: (err) => ndjson([ollamaErrorBody(err)]),
  };
}
