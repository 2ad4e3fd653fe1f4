import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/upstreams/lines.js';
import { SseParser } from '../../src/upstreams/sse.js';
import type { SseEvent } from '../../src/upstreams/sse.js';

function lines(pieces: string[]): string[] {
  const s = new LineSplitter();
  const out: string[] = [];
  for (const p of pieces) {
    s.push(p);
    for (let l = s.next(); l !== undefined; l = s.next()) out.push(l);
  }
  const rest = s.rest();
  if (rest !== '') out.push(rest);
  return out;
}

function events(pieces: string[]): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (const piece of pieces) {
    p.push(piece);
    for (let e = p.next(); e !== undefined; e = p.next()) out.push(e);
  }
  const last = p.finish();
  if (last !== undefined) out.push(last);
  return out;
}

describe('LineSplitter', () => {
  it('joins lines split across pieces and yields complete lines only', () => {
    expect(lines(['{"a":', '1}\n{"b"', ':2}\n'])).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('strips CRLF, keeps empty lines, returns an unterminated last line from rest()', () => {
    expect(lines(['a\r\n\r\nb\r', '\nc'])).toEqual(['a', '', 'b', 'c']);
  });

  it('handles many lines in one piece and one character at a time the same way', () => {
    const text = 'one\ntwo\nthree\n';
    expect(lines([text])).toEqual(lines(text.split('')));
  });
});

describe('SseParser', () => {
  it('splits events on blank lines and joins multi-line data with \\n', () => {
    expect(events(['data: a\n', 'data: b\n\n', 'data: c\n\n'])).toEqual([
      { event: 'message', data: 'a\nb' },
      { event: 'message', data: 'c' },
    ]);
  });

  it('ignores comments, id and retry fields; keeps event names; drops only one leading space', () => {
    const got = events([': ping\n\nid: 1\nretry: 10\nevent: error\ndata:  x\n\n', 'data:[DONE]\n\n']);
    expect(got).toEqual([
      { event: 'error', data: ' x' },
      { event: 'message', data: '[DONE]' },
    ]);
  });

  it('handles CRLF line endings and events split mid-field', () => {
    expect(events(['da', 'ta: {"x"', ':1}\r', '\n\r\n'])).toEqual([{ event: 'message', data: '{"x":1}' }]);
  });

  it('flushes an unterminated last event at the end of the body', () => {
    expect(events(['data: tail'])).toEqual([{ event: 'message', data: 'tail' }]);
  });
});
