import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyError } from '../../src/loadtest/execute.js';
import { createHttpConnection } from '../../src/loadtest/raw-http.js';
import { DISTORTION, generatorWarnings, type StageReport } from '../../src/loadtest/report.js';
import { summarize } from '../../src/loadtest/stats.js';

/** A TCP server whose replies are written byte by byte, so every parser state meets a split. */
let server: Server | undefined;
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});
async function rawServer(reply: (req: string, sock: Socket) => string | undefined): Promise<string> {
  server = createServer((sock) => {
    sockets.add(sock);
    let buf = '';
    const writeSlowly = async (out: string) => {
      for (const ch of Buffer.from(out)) {
        sock.write(Buffer.from([ch]));
        await new Promise((r) => setImmediate(r));
      }
    };
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      const req = buf.slice(0, end + 4 + len);
      buf = buf.slice(end + 4 + len);
      const out = reply(req, sock);
      if (out !== undefined) void writeSlowly(out);
    });
  });
  const srv = server;
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
}

describe('raw keep-alive HTTP client of the load generator', () => {
  it('reads Content-Length and chunked bodies split at every byte, on one connection', async () => {
    let connections = 0;
    server = undefined;
    const url = await rawServer((req) => {
      const json = '{"ok":"ünï"}';
      if (req.startsWith('GET /len'))
        return `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
      return 'HTTP/1.1 503 Busy\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n8\r\n, wörld\r\n0\r\n\r\n';
    });
    server!.on('connection', () => connections++);
    const conn = createHttpConnection(url, { timeoutMs: 5000 });
    const a = await conn.request({ method: 'GET', path: '/len', headers: {} });
    expect(a.statusCode).toBe(200);
    expect(JSON.parse(await a.body.text())).toEqual({ ok: 'ünï' });
    const b = await conn.request({ method: 'POST', path: '/chunked', headers: {}, body: '{"x":1}' });
    expect(b.statusCode).toBe(503);
    const parts: string[] = [];
    for await (const p of b.body) parts.push(p);
    expect(parts.join('')).toBe('hello, wörld');
    expect(connections).toBe(1);
    await conn.close();
  });

  it('a server that never answers is a timeout; one that hangs up is a connection error', async () => {
    const url = await rawServer((req, sock) => {
      if (req.startsWith('GET /close')) sock.destroy();
      return undefined;
    });
    const conn = createHttpConnection(url, { timeoutMs: 200 });
    const err = await conn.request({ method: 'GET', path: '/silent', headers: {} }).catch((e: unknown) => e);
    expect(classifyError(err).outcome).toBe('timeout');
    const err2 = await conn.request({ method: 'GET', path: '/close', headers: {} }).catch((e: unknown) => e);
    expect(classifyError(err2).outcome).toBe('connection');
    await conn.close();
  });
});

describe('load generator warnings', () => {
  const stage = (p99: number, loopP99: number, cpuPct: number): StageReport => ({
    name: '16 users',
    load: 16,
    unit: 'users',
    fromS: 0,
    toS: 5,
    stats: {
      requests: 100,
      ok: 100,
      errors: 0,
      errorRatePct: 0,
      errorsByKind: {},
      latency: { ...summarize([1]), p99 },
      okRps: 20,
      rps: 20,
      tokens: 0,
      tokensPerSec: 0,
      ttft: summarize([]),
      interToken: summarize([]),
      byKind: {},
    },
    generator: {
      cpuPct,
      loopDelayP99Ms: loopP99,
      loopDelayMaxMs: loopP99,
      late: 0,
      notSent: 0,
      maxQueued: 0,
      workers: 1,
    },
  });

  it('warns when its event-loop delay is a tenth of the p99 it reports (the 8 ms lag at a 4 ms p99 of issue 24)', () => {
    expect(generatorWarnings([stage(4, 8, 40)]).join('\n')).toMatch(
      /event-loop delay p99 8\.0 ms, 200% of the p99/,
    );
    expect(generatorWarnings([stage(100, 0.5, 40)])).toEqual([]);
  });

  it('warns when its own CPU is high enough for requests to queue inside it', () => {
    expect(generatorWarnings([stage(100, 0.5, DISTORTION.cpuPct + 5)]).join('\n')).toMatch(
      /load generator CPU 75%/,
    );
  });
});
