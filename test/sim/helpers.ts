import { request } from 'undici';
import type { Dispatcher } from 'undici';

/** Shared helpers for simulator tests (not a test file itself). */

export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export async function call(
  url: string,
  method: Dispatcher.HttpMethod,
  body?: unknown,
  extra: Partial<Dispatcher.RequestOptions> = {},
): Promise<JsonResponse> {
  const res = await request(url, {
    method,
    ...(body === undefined
      ? {}
      : {
          body: typeof body === 'string' ? body : JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        }),
    ...extra,
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

export async function post(url: string, body: unknown): Promise<JsonResponse> {
  return call(url, 'POST', body);
}

export function json<T = Record<string, unknown>>(r: { text: string }): T {
  return JSON.parse(r.text) as T;
}

/** NDJSON body → parsed objects (asserts every line is JSON and the body ends with a newline). */
export function ndjson(text: string): Record<string, unknown>[] {
  if (!text.endsWith('\n')) throw new Error(`NDJSON body does not end with a newline: ${text.slice(-40)}`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** SSE body → the `data:` payloads in order (asserts `data: <x>\n\n` framing). */
export function sseData(text: string): string[] {
  if (!text.endsWith('\n\n')) throw new Error(`SSE body does not end with a blank line: ${text.slice(-40)}`);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((e) => {
      if (!e.startsWith('data: ') || e.includes('\n')) throw new Error(`bad SSE event: ${e}`);
      return e.slice('data: '.length);
    });
}

/** Poll until `check` is true (state changes in the simulator happen asynchronously). */
export async function waitFor(check: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function words(text: string): number {
  return text.split(/\s+/).filter((w) => w !== '').length;
}
