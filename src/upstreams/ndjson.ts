import { parseObject, type Json } from './json.js';
import { LineSplitter } from './lines.js';

/** NDJSON: one object per non-empty line, as soon as its line is complete (a StreamParser). */
export class NdjsonParser {
  private readonly lines = new LineSplitter();
  constructor(private readonly upstream: string) {}

  push(text: string): void {
    this.lines.push(text);
  }

  next(): Json | undefined {
    for (let line = this.lines.next(); line !== undefined; line = this.lines.next()) {
      if (line.trim().length > 0) return parseObject(line, this.upstream);
    }
    return undefined;
  }

  /** A last line without its newline. */
  finish(): Json | undefined {
    const tail = this.lines.rest();
    return tail.trim().length > 0 ? parseObject(tail, this.upstream) : undefined;
  }
}
