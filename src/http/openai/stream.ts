import type { Chunk } from '../../pipeline/types.js';
import { SSE_CONTENT_TYPE, SSE_DONE, sseData } from '../stream/frames.js';
import type { StreamRenderer } from '../stream/writer.js';
import { openAIErrorBody } from './errors.js';

/** Maps internal chunks to the wire objects of one OpenAI stream. */
export interface FrameSource<T> {
  /** Frames sent before the first chunk. */
  start: T[];
  map(chunk: Chunk): T[];
  /** Frames sent after the last chunk (e.g. a finish chunk if the source never said done). */
  end(): T[];
}

/**
 * OpenAI SSE: `data: {...}` per frame, ending with `data: [DONE]`, or with one
 * `data: {"error":{...}}` event if the stream fails part-way.
 */
export function openaiStream<T>(frames: FrameSource<T>): StreamRenderer {
  return {
    contentType: SSE_CONTENT_TYPE,
    start: () => (frames.start.length > 0 ? sseData(frames.start) : ''),
    chunk(c) {
      const mapped = frames.map(c);
      return mapped.length > 0 ? sseData(mapped) : '';
    },
    end: () => sseData(frames.end()) + SSE_DONE,
    error: (err) => sseData([openAIErrorBody(err)]),
  };
}
