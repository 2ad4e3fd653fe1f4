import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startStack, startTestGateway, type Stack, type TestGateway } from '../helpers/gateway.js';
import { parseSse, postJson, waitFor } from '../helpers/http.js';

/** Reads everything a raw socket receives until the server closes it. */
function collect(sock: Socket): Promise<string> {
  let out = '';
  sock.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve) => sock.once('close', () => resolve(out)));
}

/** The body of a raw chunked HTTP/1.1 response. */
function dechunk(response: string): string {
  let rest = response.slice(response.indexOf('\r\n\r\n') + 4);
  let body = '';
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return body;
    body += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

function chatStreamRequest(port: number, message: string, numPredict: number): string {
  const body = JSON.stringify({ message, options: { num_predict: numPredict } });
  return (
    `POST /api/v1/chat/stream HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

describe('readiness (/ready) and draining on shutdown', () => {
  let stack: Stack | undefined;
  let gw: TestGateway | undefined;
  let silent: (Server & { closeAllConnections?: () => void }) | undefined;

  afterEach(async () => {
    await stack?.close();
    await gw?.close();
    const s = silent;
    stack = gw = silent = undefined;
    if (s) {
      s.closeAllConnections?.();
      await new Promise((r) => s.close(r));
    }
  });

  it('is 503 "starting" until the first upstream probe is in, then ready even if the upstream is down', async () => {
    // An upstream that accepts connections and never answers: the first probe takes its 2 s timeout.
    const held: Socket[] = [];
    silent = Object.assign(
      createServer((c) => held.push(c)),
      { closeAllConnections: () => held.forEach((c) => c.destroy()) },
    );
    await new Promise<void>((r) => silent?.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const g = await startTestGateway({ upstreams: [`ollama=http://127.0.0.1:${port}`] });
    gw = g;

    const first = await fetch(`${g.url}/ready`);
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('1');
    expect(await first.json()).toEqual({ status: 'starting' });
    // Alive all along: liveness must not restart a gateway that is starting or whose upstream is down.
    expect((await fetch(`${g.url}/live`)).status).toBe(200);

    await waitFor(async () => (await fetch(`${g.url}/ready`)).status === 200, 6000, 'ready');
    // Readiness is about this process: an unreachable upstream is reported by /health, and the
    // gateway stays in rotation to answer with its own precise 503s.
    expect((await fetch(`${g.url}/health`)).status).toBe(503);
    expect((await fetch(`${g.url}/live`)).status).toBe(200);
  });

  it('on drain: /ready 503 at once, still serves during the delay, finishes streams, refuses late requests with Retry-After', async () => {
    // 30 tokens at 40 tokens/s: about 0.75 s of streaming.
    stack = await startStack({
      sim: { tps: 40, ttftMs: 20 },
      gateway: { cacheMode: 'off', drainDelayMs: 300, shutdownGraceMs: 5000 },
    });
    const { gw: g, sim } = stack;
    await waitFor(async () => (await fetch(`${g.url}/ready`)).status === 200, 5000, 'ready');
    const port = Number(new URL(g.url).port);

    // A stream in flight on a raw connection, with a second request pipelined behind it later.
    const sock = connect(port, '127.0.0.1');
    const received = collect(sock);
    sock.write(chatStreamRequest(port, 'long stream', 30));
    await waitFor(() => sim.stats().active === 1, 5000, 'stream in flight');

    const drained = g.drain.drain();
    const during = await fetch(`${g.url}/ready`);
    expect(during.status).toBe(503);
    expect(await during.json()).toEqual({ status: 'draining' });
    // During the delay the gateway still answers normally but tells clients not to reuse the connection.
    const served = await postJson(`${g.url}/api/v1/chat`, {
      message: 'during delay',
      options: { num_predict: 2 },
    });
    expect(served.status).toBe(200);
    expect(served.headers.get('connection')).toBe('close');

    // After the delay the listener is closed: new connections are refused...
    await waitFor(
      () =>
        fetch(`${g.url}/ready`).then(
          () => false,
          () => true,
        ),
      5000,
      'listener closed',
    );
    // ...and a request arriving on the still-open connection gets an explicit 503 with Retry-After.
    sock.write(chatStreamRequest(port, 'too late', 2));

    const raw = await received;
    await drained;
    const [first, second] = raw.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200/);
    const events = parseSse(dechunk(first ?? ''));
    expect(events.at(-1)?.event).toBe('done');
    expect(events.filter((e) => e.event === 'token').length).toBeGreaterThan(10);
    expect(second).toMatch(/^HTTP\/1\.1 503/);
    expect(second).toMatch(/retry-after: 1/i);
    expect(second).toContain('SUTAZAI_ERR_SHUTTING_DOWN');
    expect(sim.stats().generations).toBe(2); // the late request never reached the upstream
  });
});
