import http from 'node:http';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createGateway, type Gateway } from '../../src/gateway/gateway.js';
import { startGateway, type RunningGateway } from '../../src/cli/serve.js';
import { buildApp } from '../../src/http/build-app.js';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { parseSse, waitFor } from '../helpers/http.js';
import { startScripted, type ScriptedServer } from '../upstreams/scripted-server.js';

/*
 * The one stream writer (src/http/stream/writer.ts), once per surface over real HTTP: a client
 * sending `Connection: close`, a slow reader (backpressure), an upstream failing part-way, and a
 * client leaving part-way. Each surface keeps its own framing and error envelope.
 */

interface Surface {
  name: string;
  path: string;
  body(prompt: string, tokens: number): unknown;
  contentType: RegExp;
  /** The content pieces (tokens) in a whole stream body, and whether it ended with its terminal frame. */
  read(text: string): { pieces: number; ended: boolean };
  /** The error frame at the end of a stream that failed part-way, as its envelope's code/message. */
  lastError(text: string): unknown;
  /** What lastError() gives for an upstream failure, when not SUTAZAI_ERR_UPSTREAM_ERROR. */
  upstreamError?: string;
}

const ndjsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const sseDataFrames = (text: string) =>
  text
    .split('\n\n')
    .filter((b) => b.startsWith('data: '))
    .map((b) => b.slice(6));

const SURFACES: Surface[] = [
  {
    name: 'v1 (SSE, named events)',
    path: '/api/v1/chat/stream',
    body: (message, tokens) => ({ model: 'tinyllama', message, options: { num_predict: tokens } }),
    contentType: /^text\/event-stream/,
    read(text) {
      const events = parseSse(text);
      return {
        pieces: events.filter((e) => e.event === 'token').length,
        ended: events.at(-1)?.event === 'done',
      };
    },
    lastError(text) {
      const last = parseSse(text).at(-1);
      expect(last?.event).toBe('error');
      return (last?.data as { error: { code: string } }).error.code;
    },
  },
  {
    name: 'OpenAI (SSE, data frames)',
    path: '/v1/chat/completions',
    body: (content, tokens) => ({
      model: 'tinyllama',
      messages: [{ role: 'user', content }],
      max_tokens: tokens,
      stream: true,
    }),
    contentType: /^text\/event-stream/,
    read(text) {
      const frames = sseDataFrames(text);
      const pieces = frames.filter((f) => {
        if (f === '[DONE]') return false;
        const d = (JSON.parse(f) as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]
          ?.delta;
        return Boolean(d?.content);
      }).length;
      return { pieces, ended: frames.at(-1) === '[DONE]' };
    },
    lastError(text) {
      const last = sseDataFrames(text).at(-1) ?? '';
      return (JSON.parse(last) as { error: { code: string } }).error.code;
    },
  },
  {
    name: 'Anthropic (SSE, named events)',
    path: '/v1/messages',
    body: (content, tokens) => ({
      model: 'tinyllama',
      messages: [{ role: 'user', content }],
      max_tokens: tokens,
      stream: true,
    }),
    contentType: /^text\/event-stream/,
    read(text) {
      const events = parseSse(text);
      return {
        pieces: events.filter((e) => e.event === 'content_block_delta').length,
        ended: events.at(-1)?.event === 'message_stop',
      };
    },
    lastError(text) {
      const last = parseSse(text).at(-1);
      expect(last?.event).toBe('error');
      return (last?.data as { type: string; error: { type: string } }).error.type;
    },
    upstreamError: 'api_error',
  },
  {
    name: 'OpenAI Responses (SSE, typed events)',
    path: '/v1/responses',
    body: (input, tokens) => ({ model: 'tinyllama', input, max_output_tokens: tokens, stream: true }),
    contentType: /^text\/event-stream/,
    read(text) {
      const events = parseSse(text);
      const last = events.at(-1)?.event;
      return {
        pieces: events.filter((e) => e.event === 'response.output_text.delta').length,
        ended: last === 'response.completed' || last === 'response.incomplete',
      };
    },
    lastError(text) {
      const events = parseSse(text);
      expect(events.at(-1)?.event).toBe('response.failed');
      expect(events.at(-2)?.event).toBe('error');
      return (events.at(-2)?.data as { code: string }).code;
    },
  },
  {
    name: 'Ollama (NDJSON)',
    path: '/api/chat',
    body: (content, tokens) => ({
      model: 'tinyllama',
      messages: [{ role: 'user', content }],
      options: { num_predict: tokens },
      stream: true,
    }),
    contentType: /^application\/x-ndjson/,
    read(text) {
      const lines = ndjsonLines(text);
      const pieces = lines.filter(
        (l) => !l.done && Boolean((l.message as { content?: string } | undefined)?.content),
      ).length;
      return { pieces, ended: lines.at(-1)?.done === true };
    },
    lastError(text) {
      const last = ndjsonLines(text).at(-1);
      expect(Object.keys(last ?? {})).toEqual(['error']);
      return typeof last?.error === 'string' ? 'string envelope' : last?.error;
    },
  },
];

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The connection closed (not kept alive) after the response. */
  socketClosed: boolean;
}

/** POST with node:http, so the request's own headers (Connection) and the reading pace are ours. */
function post(
  url: string,
  body: unknown,
  opts: { headers?: Record<string, string>; pauseMs?: number; agent?: http.Agent | false } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: opts.agent ?? false,
        headers: { 'content-type': 'application/json', ...opts.headers },
      },
      (res) => {
        const parts: Buffer[] = [];
        let socketClosed = false;
        res.socket.once('close', () => (socketClosed = true));
        if (opts.pauseMs) {
          // Read nothing for a while: the gateway's writes back up into the socket buffers.
          res.pause();
          setTimeout(() => res.resume(), opts.pauseMs);
        }
        res.on('data', (b: Buffer) => parts.push(b));
        res.on('end', () => {
          // Let the socket's close (if the server closes it) be seen.
          setTimeout(() => {
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(parts).toString('utf8'),
              socketClosed,
            });
          }, 50);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

type Line = Record<string, unknown>;

describe('one stream writer, every surface', () => {
  let sim: SimHandle;
  let gw: Gateway;
  let app: FastifyInstance;
  let url: string;
  const logs: Line[] = [];
  // An Ollama upstream that writes `n` one-token lines as fast as its socket takes them, counting
  // the lines written: it pauses (drain) when the gateway stops reading, as a real server does.
  const up = { lines: 0 };
  let upServer: ScriptedServer;
  let upGw: RunningGateway;
  let upUrl: string;

  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      models: ['tinyllama'],
      embedModels: [],
      parallel: 8,
      defaultTokens: 3000,
    });
    const config = loadConfig({
      env: {},
      overrides: { host: '127.0.0.1', port: 0, cacheMode: 'off', upstreams: [`ollama=${sim.url}`] },
    });
    const logger = pino({ level: 'warn' }, { write: (s: string) => void logs.push(JSON.parse(s) as Line) });
    gw = await createGateway(config, logger);
    app = await buildApp(gw);
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    upServer = await startScripted();
    upServer.script = (req, res, body) => {
      if (req.url === '/api/tags') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ models: [{ name: 'tinyllama:latest', model: 'tinyllama:latest' }] }));
        return;
      }
      if (req.url === '/api/version') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ version: '0.12.6' }));
        return;
      }
      if (req.url !== '/api/chat') {
        res.writeHead(404).end();
        return;
      }
      const n = (body as { options?: { num_predict?: number } }).options?.num_predict ?? 10;
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const line = `${JSON.stringify({ model: 'tinyllama', message: { role: 'assistant', content: ' ' + 'w'.repeat(1000) }, done: false })}\n`;
      const pump = () => {
        while (up.lines < n) {
          up.lines++;
          if (!res.write(line)) return void res.once('drain', pump);
        }
        res.end(
          `${JSON.stringify({ model: 'tinyllama', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop' })}\n`,
        );
      };
      pump();
    };
    upGw = await startGateway(
      loadConfig({
        env: {},
        overrides: {
          host: '127.0.0.1',
          port: 0,
          logLevel: 'silent',
          cacheMode: 'off',
          upstreams: [`ollama=${upServer.url}`],
        },
      }),
    );
    upUrl = upGw.url;
  });
  afterAll(async () => {
    await upGw.close();
    await upServer.close();
    await app.close();
    await gw.close();
    await sim.close();
  });
  beforeEach(() => {
    sim.setFaults({ errorRate: 0, midStreamErrorRate: 0, stallRate: 0, slowHeadersMs: 0, failNext: 0 });
    logs.length = 0;
  });

  describe.each(SURFACES)('$name', (s) => {
    it('a client sending Connection: close gets the whole stream, then the connection closes', async () => {
      const r = await post(`${url}${s.path}`, s.body('close after this', 20), {
        headers: { connection: 'close' },
      });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(s.contentType);
      expect(r.headers['x-sutazai-cache']).toBe('bypass');
      expect(r.headers['x-request-id']).toBeTruthy();
      expect(r.headers.connection).toBe('close');
      const got = s.read(r.text);
      expect(got.ended).toBe(true);
      expect(got.pieces).toBeGreaterThan(0);
      expect(r.socketClosed).toBe(true);
    });

    it('a client keeping the connection alive gets keep-alive and the connection stays open', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const r = await post(`${url}${s.path}`, s.body('keep alive', 5), { agent });
        expect(r.headers.connection).toBe('keep-alive');
        expect(s.read(r.text).ended).toBe(true);
        expect(r.socketClosed).toBe(false);
      } finally {
        agent.destroy();
      }
    });

    it('a reader that stalls holds the upstream back (backpressure), then gets every token', async () => {
      const total = 20_000; // ~20 MB each way: far more than the socket buffers on the way
      up.lines = 0;
      const r = post(`${upUrl}${s.path}`, s.body('long answer', total), { pauseMs: 1500 });
      // While the client reads nothing, the gateway stops reading the upstream, which stops writing.
      await waitFor(() => up.lines > 0, 5000, 'upstream started');
      await new Promise((res) => setTimeout(res, 300));
      expect(up.lines).toBeLessThan(total / 2);
      const got = s.read((await r).text);
      expect(got.ended).toBe(true);
      expect(got.pieces).toBe(total);
    });

    it('an upstream failing part-way ends the stream with one error frame in the surface envelope', async () => {
      sim.setFaults({ midStreamErrorRate: 1 });
      const r = await post(`${url}${s.path}`, s.body('fail part-way', 40));
      expect(r.status).toBe(200);
      expect(s.read(r.text).ended).toBe(false);
      const code = s.lastError(r.text);
      expect(code).toBe(
        s.upstreamError ?? (s.name.startsWith('Ollama') ? 'string envelope' : 'SUTAZAI_ERR_UPSTREAM_ERROR'),
      );
      expect(logs.some((l) => l.msg === 'stream failed mid-way')).toBe(true);
    });

    it('a client leaving part-way cancels the upstream call and gets nothing more written', async () => {
      sim.setFaults({ stallRate: 1 });
      const abortedBefore = sim.stats().aborted;
      const req = http.request(`${url}${s.path}`, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json' },
      });
      const headers = new Promise<http.IncomingMessage>((resolve, reject) => {
        req.on('response', resolve);
        req.on('error', reject);
      });
      req.end(JSON.stringify(s.body('stall forever', 100)));
      const res = await headers;
      expect(res.statusCode).toBe(200);
      await waitFor(() => sim.stats().active === 1, 5000, 'sim slot taken');
      req.destroy();
      await waitFor(() => sim.stats().active === 0, 5000, 'upstream call cancelled');
      expect(sim.stats().aborted).toBeGreaterThan(abortedBefore);
      // A gone client is not an error: no error frame, no mid-stream warning.
      await new Promise((r) => setTimeout(r, 50));
      expect(logs.filter((l) => l.msg === 'stream failed mid-way')).toEqual([]);
    });
  });
});
