import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny node:http server speaking just enough of the SutazAI public API for load-tester tests,
 * with latency and bodies under the test's control. (Not the gateway: these tests pin the tool.)
 */
export interface FakeTargetOptions {
  /** Delay before answering a chat request, ms; may depend on the arrival time and chat requests in flight. */
  latencyMs?: (ctx: { inflight: number; nowMs: number }) => number;
  /** Override the chat body (e.g. a bad one). */
  chatBody?: () => string;
  /** Status for chat requests (default 200). */
  chatStatus?: () => number;
  /** Tokens per stream. */
  streamTokens?: number;
  /** Poll answers before a task reports completed. */
  taskPolls?: number;
}

export interface FakeTarget {
  url: string;
  /** Requests received per "METHOD path" (task ids collapsed to :id). */
  counts: Record<string, number>;
  total(): number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function drain(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of req) s += String(c);
  return s;
}

export async function startFakeTarget(opts: FakeTargetOptions = {}): Promise<FakeTarget> {
  const counts: Record<string, number> = {};
  const tasks = new Map<string, number>();
  const t0 = Date.now();
  let inflight = 0;
  let nextId = 1;
  const server = createServer((req, res) => {
    void (async () => {
      const url = req.url ?? '/';
      const key = `${req.method ?? 'GET'} ${url.replace(/\/tasks\/[^/]+$/, '/tasks/:id')}`;
      counts[key] = (counts[key] ?? 0) + 1;
      await drain(req);
      // Only chat requests are slowed and counted as load (pre-connect GETs must not be).
      const isChat = url.startsWith('/api/v1/chat');
      if (isChat) inflight++;
      try {
        const delay = isChat ? (opts.latencyMs?.({ inflight, nowMs: Date.now() - t0 }) ?? 0) : 0;
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        if (url === '/health') return send(res, 200, '{"status":"healthy"}');
        if (url === '/api/v1/metrics') {
          return send(
            res,
            200,
            JSON.stringify({ system: { memory: { rss_bytes: 50 * 1024 * 1024 + inflight } } }),
          );
        }
        if (url === '/api/v1/chat') {
          const status = opts.chatStatus?.() ?? 200;
          const body =
            opts.chatBody?.() ??
            '{"response":"hello there","model":"m","cached":false,"usage":{"prompt_tokens":3,"completion_tokens":2}}';
          return send(
            res,
            status,
            status === 200 ? body : '{"error":{"code":"SUTAZAI_ERR_UPSTREAM_BUSY","message":"busy"}}',
          );
        }
        if (url === '/api/v1/chat/stream') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const n = opts.streamTokens ?? 3;
          for (let i = 0; i < n; i++) {
            res.write(`event: token\ndata: {"text":"t${i} "}\n\n`);
            await new Promise((r) => setTimeout(r, 2));
          }
          res.end(`event: done\ndata: {"finish_reason":"stop","usage":{"completion_tokens":${n}}}\n\n`);
          return;
        }
        if (url === '/api/v1/tasks' && req.method === 'POST') {
          const id = `t${nextId++}`;
          tasks.set(id, 0);
          return send(res, 202, JSON.stringify({ task_id: id, status: 'queued' }));
        }
        const m = /^\/api\/v1\/tasks\/([^/]+)$/.exec(url);
        if (m !== null) {
          const id = m[1] ?? '';
          const polls = (tasks.get(id) ?? 0) + 1;
          tasks.set(id, polls);
          const done = polls >= (opts.taskPolls ?? 2);
          return send(
            res,
            200,
            JSON.stringify({
              task_id: id,
              status: done ? 'completed' : 'running',
              ...(done ? { result: { text: 'ok' } } : {}),
            }),
          );
        }
        return send(res, 404, '{"error":"not found"}');
      } finally {
        if (isChat) inflight--;
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
