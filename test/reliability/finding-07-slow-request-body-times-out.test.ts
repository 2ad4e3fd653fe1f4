import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';

// Issue 23, finding 7: a client that sent its body slowly held a connection for over 100 s.
// SUTAZAI_REQUEST_TIMEOUT_MS bounds the whole request (headers and body): 408, then closed.

let s: Stack;
beforeAll(async () => {
  s = await startStack({ gateway: { requestTimeoutMs: 1500 } });
});
afterAll(async () => {
  await s.close();
});

/** Opens a connection, sends `head`, then one byte of body every 200 ms; resolves when closed. */
function trickle(port: number, head: string): Promise<{ ms: number; reply: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let reply = '';
    const sock = net.connect(port, '127.0.0.1', () => sock.write(head));
    const timer = setInterval(() => sock.writable && sock.write('x'), 200);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (reply += d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearInterval(timer);
      resolve({ ms: performance.now() - t0, reply });
    });
    setTimeout(() => sock.destroy(), 15_000).unref();
  });
}

describe('finding 7: a slow request is cut off', () => {
  it('a body trickled byte by byte gets 408 and the connection closed after the timeout', async () => {
    const port = Number(new URL(s.gw.url).port);
    const head =
      'POST /api/v1/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      'Content-Length: 100000\r\n\r\n{"message":"';
    const slow = trickle(port, head);
    // Meanwhile other clients are served.
    const ok = await fetch(`${s.gw.url}/api/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'served while another trickles' }),
    });
    expect(ok.status).toBe(200);
    const r = await slow;
    expect(r.reply).toMatch(/^HTTP\/1\.1 408/);
    expect(r.ms).toBeGreaterThanOrEqual(1400);
    expect(r.ms).toBeLessThan(5000);
  });
  it('headers trickled (slow loris) are cut off the same way', async () => {
    const port = Number(new URL(s.gw.url).port);
    const r = await trickle(port, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(r.ms).toBeLessThan(5000);
    expect(r.reply === '' || /^HTTP\/1\.1 408/.test(r.reply)).toBe(true);
  });
});
