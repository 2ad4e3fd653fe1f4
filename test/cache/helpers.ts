import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import type { RequestContext } from '../../src/pipeline/pipeline.js';
import type { ChatRequest, Chunk } from '../../src/pipeline/types.js';

import { REDIS_SERVER, TEST_REDIS_URL } from '../helpers/services.js';

export const REDIS_URL = TEST_REDIS_URL;

/** A key prefix unique to one test file run. */
export const uniquePrefix = (what: string) => `test:${what}:${randomUUID().slice(0, 8)}:`;

export const silentLogger = { info: () => undefined, warn: () => undefined };

/** A plain client for checking what the cache wrote; fails (not skips) when Redis is unreachable. */
export async function adminClient(url = REDIS_URL): Promise<Redis> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on('error', () => undefined); // connect() rejects with it
  await r.connect();
  return r;
}

export async function deleteByPrefix(r: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length) await r.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function chatReq(content: string, extra: Partial<ChatRequest> = {}): ChatRequest {
  return {
    kind: 'chat',
    model: 'tinyllama',
    messages: [{ role: 'user', content }],
    options: { temperature: 0 },
    stream: false,
    priority: 'interactive',
    cache: { use: true },
    ...extra,
  };
}

export function ctxWith(
  signal: AbortSignal = new AbortController().signal,
  cacheControl?: string,
): RequestContext {
  return {
    caller: { requestId: randomUUID(), surface: 'v1' },
    signal,
    ...(cacheControl ? { cacheControl } : {}),
  };
}

export function textChunks(words: string[]): Chunk[] {
  return [
    ...words.map((w): Chunk => ({ type: 'delta', text: w })),
    { type: 'done', finishReason: 'stop', usage: { promptTokens: 3, completionTokens: words.length } },
  ];
}

export async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A private redis-server child (so a test may kill and restart it without touching the shared one). */
export interface OwnRedis {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that keeps its connections but stops answering (a "slow" Redis). */
  pause(): void;
  resume(): void;
}

export async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const h: OwnRedis = {
    url,
    port,
    async start() {
      const c = spawn(
        REDIS_SERVER,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      child = c;
      const end = Date.now() + 5000;
      for (;;) {
        try {
          const r = await adminClient(url);
          await r.quit();
          return;
        } catch (err) {
          if (Date.now() > end) throw err;
          await sleep(25);
        }
      }
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
        c.kill('SIGCONT');
      });
    },
  };
  await h.start();
  return h;
}
