import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';

// Issue 23, finding 2: two HTTP/1.1 requests pipelined on one connection; the second got
// 500 "client disconnected" (its response had no socket yet, so it looked cut off).

let s: Stack;
beforeAll(async () => {
  // The simulator paces tokens so the first answer is still running when the second arrives.
  s = await startStack({ sim: { tps: 200 }, gateway: { cacheMode: 'off' } });
});
afterAll(async () => {
  await s.close();
});

function post(path: string, body: object): string {
  const b = JSON.stringify(body);
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`
  );
}

/** Sends `raw` in one write and reads until `count` responses have fully arrived. */
function exchange(port: number, raw: string, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(raw));
    let out = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      out += d;
      if (bodies(out).length >= count) {
        sock.destroy();
        resolve(out);
      }
    });
    sock.on('error', reject);
    sock.setTimeout(10_000, () => {
      sock.destroy();
      reject(new Error(`timed out; got: ${out.slice(0, 500)}`));
    });
  });
}

function bodies(out: string): Array<{ status: number; body: Record<string, unknown> }> {
  const found: Array<{ status: number; body: Record<string, unknown> }> = [];
  const re = /HTTP\/1\.1 (\d{3})[^]*?\r\ncontent-length: (\d+)[^]*?\r\n\r\n/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(out)) !== null) {
    const start = re.lastIndex;
    const len = Number(m[2]);
    const text = out.slice(start, start + len);
    if (text.length < len) break;
    found.push({ status: Number(m[1]), body: JSON.parse(text) as Record<string, unknown> });
    re.lastIndex = start + len;
  }
  return found;
}

describe('finding 2: pipelined requests are answered in order', () => {
  it('answers both chats on one connection, first then second', async () => {
    const port = Number(new URL(s.gw.url).port);
    const raw =
      post('/api/v1/chat', { message: 'pipelined first' }) +
      post('/api/v1/chat', { message: 'pipelined second' });
    const out = await exchange(port, raw, 2);
    const answers = bodies(out);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const direct = async (message: string) =>
      (
        (await (
          await fetch(`${s.gw.url}/api/v1/chat`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ message }),
          })
        ).json()) as { response: string }
      ).response;
    // In order: each answer is the one its own prompt gets (the simulator's text is a function of it).
    expect(answers[0]?.body.response).toBe(await direct('pipelined first'));
    expect(answers[1]?.body.response).toBe(await direct('pipelined second'));
  });
});
