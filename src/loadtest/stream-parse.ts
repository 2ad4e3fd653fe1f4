/** One Server-Sent Event. `event` defaults to "message". */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Incremental SSE parser (WHATWG rules that matter here): events end at a blank line; `data:`
 * lines are joined with "\n"; lines starting with ":" are comments; CRLF, LF and CR all end lines;
 * an event not closed by a blank line when the body ends is dropped.
 */
export function createSseParser(): { push(text: string): SseEvent[]; end(): SseEvent[] } {
  let buf = '';
  let event = '';
  let data: string[] = [];
  let hasData = false;

  function line(l: string, out: SseEvent[]): void {
    if (l === '') {
      if (hasData) out.push({ event: event === '' ? 'message' : event, data: data.join('\n') });
      event = '';
      data = [];
      hasData = false;
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon === -1 ? l : l.slice(0, colon);
    let value = colon === -1 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      data.push(value);
      hasData = true;
    } else if (field === 'event') {
      event = value;
    }
  }

  function drain(final: boolean): SseEvent[] {
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(buf);
      // A trailing "\r" may be the first half of "\r\n": wait for more input unless final.
      if (m === null || (m[0] === '\r' && m.index === buf.length - 1 && !final)) break;
      line(buf.slice(0, m.index), out);
      buf = buf.slice(m.index + m[0].length);
    }
    // At end of input an event not closed by a blank line is discarded (as browsers do), so a
    // truncated stream is not mistaken for a complete one.
    if (final) buf = '';
    return out;
  }

  return {
    push(text) {
      buf += text;
      return drain(false);
    },
    end() {
      return drain(true);
    },
  };
}

/** Incremental newline-delimited JSON splitter: returns complete non-empty lines. */
export function createLineSplitter(): { push(text: string): string[]; end(): string[] } {
  let buf = '';
  return {
    push(text) {
      buf += text;
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      return parts.map((p) => p.trim()).filter((p) => p !== '');
    },
    end() {
      const rest = buf.trim();
      buf = '';
      return rest === '' ? [] : [rest];
    },
  };
}
