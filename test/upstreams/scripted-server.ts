import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A bare node:http upstream whose answer each test scripts: for wire shapes the simulator never
 * produces (garbage JSON, truncated streams, split UTF-8) and to capture what the adapters send.
 */
export interface Captured {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export type Script = (req: IncomingMessage, res: ServerResponse, body: unknown) => void;

export interface ScriptedServer {
  url: string;
  requests: Captured[];
  script: Script;
  close(): Promise<void>;
}

export async function startScripted(): Promise<ScriptedServer> {
  const state: ScriptedServer = {
    url: '',
    requests: [],
    script: (_req, res) => res.writeHead(500).end(),
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      const raw = Buffer.concat(parts).toString('utf8');
      const body: unknown = raw === '' ? undefined : JSON.parse(raw);
      state.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      state.script(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return state;
}

/** Writes `parts` one per macrotask so the client sees them as separate network chunks. */
export function writeSlowly(res: ServerResponse, parts: Array<string | Buffer>, end = true): void {
  const step = (i: number): void => {
    if (i >= parts.length) {
      if (end) res.end();
      return;
    }
    res.write(parts[i]);
    setTimeout(() => step(i + 1), 5);
  };
  step(0);
}
