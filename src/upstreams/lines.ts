/**
 * Incremental line splitting for streamed bodies (NDJSON and SSE). Text pieces are pushed as they
 * arrive; complete lines are pulled one at a time, so a line split across network chunks is joined
 * and nothing beyond the current partial line is ever buffered.
 */
export class LineSplitter {
  private buf = '';
  private pos = 0;

  push(piece: string): void {
    this.buf = this.pos < this.buf.length ? this.buf.slice(this.pos) + piece : piece;
    this.pos = 0;
  }

  /** The next complete line without its `\n` / `\r\n`, or undefined when none is buffered. */
  next(): string | undefined {
    const nl = this.buf.indexOf('\n', this.pos);
    if (nl < 0) return undefined;
    const end = nl > this.pos && this.buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    const line = this.buf.slice(this.pos, end);
    this.pos = nl + 1;
    return line;
  }

  /** What is left once the body ended (a last line without a terminator); clears the buffer. */
  rest(): string {
    const tail = this.buf.slice(this.pos);
    this.buf = '';
    this.pos = 0;
    return tail.endsWith('\r') ? tail.slice(0, -1) : tail;
  }
}
