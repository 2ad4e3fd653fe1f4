import { LineSplitter } from './lines.js';

/** One server-sent event: its `event:` name ('message' when absent) and its joined `data:` lines. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Incremental Server-Sent Events parser (WHATWG rules as used by OpenAI streams): events end at a
 * blank line, `data:` lines are joined with `\n`, a single space after the colon is dropped, lines
 * starting with `:` are comments, `id:`/`retry:` and unknown fields are ignored. Lone-CR line
 * endings are not supported (no OpenAI-compatible server sends them).
 */
export class SseParser {
  private readonly lines = new LineSplitter();
  private event = '';
  private data: string | undefined;

  push(piece: string): void {
    this.lines.push(piece);
  }

  /** The next complete event, or undefined when more input is needed. */
  next(): SseEvent | undefined {
    for (;;) {
      const line = this.lines.next();
      if (line === undefined) return undefined;
      const ev = this.feed(line);
      if (ev !== undefined) return ev;
    }
  }

  /** Flushes an event left unterminated when the body ended. */
  finish(): SseEvent | undefined {
    const tail = this.lines.rest();
    if (tail.length > 0) this.feed(tail);
    return this.feed('');
  }

  private feed(line: string): SseEvent | undefined {
    if (line.length === 0) {
      if (this.data === undefined) {
        this.event = '';
        return undefined;
      }
      const ev: SseEvent = { event: this.event || 'message', data: this.data };
      this.event = '';
      this.data = undefined;
      return ev;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data = this.data === undefined ? value : `${this.data}\n${value}`;
    else if (field === 'event') this.event = value;
    return undefined;
  }
}
