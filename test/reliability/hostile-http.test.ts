import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';

/*
 * Hostile HTTP (issue 23, "Hostile input", targeted tests): oversized bodies, URLs and headers,
 * slow loris, request smuggling, HTTP/1.0 without Host. Each gets a 4xx or a closed connection,
 * and other clients keep being served. (Pipelining: finding-02; a trickled body: finding-07.)
 */

let s: Stack;
let port: number;
beforeAll(async () => {
  s = await startStack({ gateway: { requestTimeoutMs: 2000, bodyLimit: 64 * 1024 } });
  port = Number(new URL(s.gw.url).port);
});
afterAll(async () => {
  await s.close();
});

interface Exchange {
  reply: string;
  closed: boolean;
  /** Bytes of the request the server had let us write when its answer arrived. */
  sentWhenAnswered: number;
}

/**
 * Write `chunks` one after another (each after the previous is flushed, `gapMs` apart); resolve
 * when the server closes the connection or `waitMs` passes.
 */
function raw(
  chunks: Array<string | Buffer>,
  opts: { gapMs?: number; waitMs?: number } = {},
): Promise<Exchange> {
  return new Promise((resolve) => {
    let reply = '';
    let sent = 0;
    let sentWhenAnswered = -1;
    let done = false;
    const sock = net.connect(port, '127.0.0.1');
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve({ reply, closed, sentWhenAnswered });
    };
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      if (sentWhenAnswered < 0) sentWhenAnswered = sent;
      reply += d;
    });
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
    setTimeout(() => finish(false), opts.waitMs ?? 5000).unref();
    void (async () => {
      for (const c of chunks) {
        if (done || sock.destroyed) return;
        await new Promise<void>((r) => sock.write(c, () => r()));
        sent += c.length;
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
    })().catch(() => undefined);
  });
}

const status = (reply: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(reply)?.[1] ?? 0);
const bodyOf = (reply: string) => reply.slice(reply.indexOf('\r\n\r\n') + 4);

async function healthy(): Promise<void> {
  const r = await fetch(`${s.gw.url}/live`);
  expect(r.status).toBe(200);
}

describe('hostile HTTP', () => {
  it('a body over the limit is refused with 413 before it is all read', async () => {
    const head =
      'POST /api/v1/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${50 * 1024 * 1024}\r\n\r\n`;
    const piece = Buffer.alloc(64 * 1024, 0x61);
    // 50 MiB announced; 200 pieces of 64 KiB = 12.5 MiB offered, 5 ms apart.
    const r = await raw([head, ...Array.from({ length: 200 }, () => piece)], { gapMs: 5, waitMs: 10_000 });
    expect(status(r.reply)).toBe(413);
    expect(JSON.parse(bodyOf(r.reply))).toMatchObject({ error: { code: 'SUTAZAI_ERR_BODY_TOO_LARGE' } });
    expect(r.sentWhenAnswered).toBeLessThan(4 * 1024 * 1024);
    await healthy();
  });

  it('a 100 KB URL and a 100 KB header get 431 and a closed connection', async () => {
    const url = await raw([
      `GET /api/v1/models?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
    ]);
    expect(status(url.reply)).toBe(431);
    expect(url.closed).toBe(true);
    const header = await raw([
      `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(100_000)}\r\n\r\n`,
    ]);
    expect(status(header.reply)).toBe(431);
    expect(header.closed).toBe(true);
    await healthy();
  });

  it('slow loris: trickled headers are dropped after the timeout while others are served', async () => {
    const started = performance.now();
    const lines = [
      'GET /health HTTP/1.1\r\n',
      'Host: 127.0.0.1\r\n',
      ...Array.from({ length: 60 }, (_, i) => `X-${i}: y\r\n`),
    ];
    const loris = Array.from({ length: 20 }, () => raw(lines, { gapMs: 250, waitMs: 15_000 }));
    // Meanwhile ordinary clients are answered at once.
    for (let i = 0; i < 10; i++) await healthy();
    const results = await Promise.all(loris);
    for (const r of results) {
      expect(r.closed).toBe(true);
      expect([0, 408]).toContain(status(r.reply));
    }
    // Cut at the header timeout (2 s here), long before the 15 s the trickle would take.
    expect(performance.now() - started).toBeLessThan(8000);
    await healthy();
  });

  it('request smuggling: Content-Length with Transfer-Encoding, or two Content-Lengths → 400, closed', async () => {
    const smuggled = 'GET /api/v1/settings HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    const clte = await raw([
      'POST /api/v1/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        `Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    ]);
    expect(status(clte.reply)).toBe(400);
    expect(clte.closed).toBe(true);
    expect(clte.reply).not.toContain('"default_model"'); // the smuggled request was never answered
    const twoCl = await raw([
      'POST /api/v1/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        `Content-Length: 2\r\nContent-Length: ${2 + smuggled.length}\r\n\r\n{}${smuggled}`,
    ]);
    expect(status(twoCl.reply)).toBe(400);
    expect(twoCl.closed).toBe(true);
    expect(twoCl.reply.match(/HTTP\/1\.1/g)).toHaveLength(1);
    await healthy();
  });

  it('HTTP/1.0 without Host is answered, then closed', async () => {
    const r = await raw(['GET /api/v1/models HTTP/1.0\r\n\r\n']);
    expect(status(r.reply)).toBe(200);
    expect(r.closed).toBe(true);
    const post = await raw([
      'POST /api/generate HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 55\r\n\r\n' +
        '{"model":"tinyllama","prompt":"one-oh","stream":false}\n',
    ]);
    expect(status(post.reply)).toBe(200);
    expect(JSON.parse(bodyOf(post.reply))).toMatchObject({ done: true });
  });

  it('HTTP/1.1 without Host is a 400 (RFC 9112 §3.2), and the gateway carries on', async () => {
    const r = await raw(['GET /api/v1/models HTTP/1.1\r\n\r\n']);
    expect(status(r.reply)).toBe(400);
    await healthy();
  });
});
