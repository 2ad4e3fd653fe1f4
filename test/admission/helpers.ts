import { request, type IncomingHttpHeaders } from 'node:http';
import type { FieldName } from '../../src/config/fields.js';
import type { SimOptions } from '../../src/sim/types.js';
import { startStack, type Stack } from '../helpers/gateway.js';
import { waitFor } from '../helpers/http.js';

/** Simulator + gateway with admission on (cache off: every request is real upstream work). */
export function admissionStack(
  sim: Partial<SimOptions>,
  gateway: Partial<Record<FieldName, unknown>>,
): Promise<Stack> {
  return startStack({
    sim: { models: ['tinyllama'], embedModels: [], ...sim },
    gateway: { cacheMode: 'off', ...gateway },
  });
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Client-side time from sending to the whole body (ms). */
  ms: number;
}

/**
 * POST JSON over node:http, optionally from another loopback address (a different client for the
 * gateway's fairness), timed with performance.now().
 */
export function post(
  url: string,
  body: unknown,
  opts: { localAddress?: string; signal?: AbortSignal } = {},
): Promise<Answer> {
  const data = JSON.stringify(body);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, ms: performance.now() - t0 }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** The durations of a Server-Timing header, by metric name (ms). */
export function serverTiming(h: string | string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of String(h ?? '').split(',')) {
    const m = /^\s*([\w-]+)\s*;.*dur=([\d.]+)/.exec(part);
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** An Ollama chat body with a unique prompt (no cache or merging can answer it). */
let n = 0;
export const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: 'tinyllama',
  messages: [{ role: 'user', content: `question ${++n} ${Math.random()}` }],
  stream: false,
  ...extra,
});

/** Wait until the gateway holds no slot and no waiter for any model (no ticket leaked). */
export async function expectNoTickets(stack: Stack): Promise<void> {
  await waitFor(() => stack.gw.services.admission.stats().length === 0, 5000, 'every ticket released');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
