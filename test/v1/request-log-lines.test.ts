import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createGateway, type Gateway } from '../../src/gateway/gateway.js';
import { loadConfig } from '../../src/config/config.js';
import { buildApp } from '../../src/http/build-app.js';
import { lazyChildLogger } from '../../src/http/request-logger.js';

type Line = Record<string, unknown>;

/** A pino logger whose lines land in `lines`, parsed. */
function capturingLogger(level: string) {
  const lines: Line[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  return { logger, lines };
}

describe('request logger (lazy child)', () => {
  it('makes no pino child until the request logs, then logs with the request id', () => {
    const { logger, lines } = capturingLogger('info');
    let children = 0;
    const parent = Object.assign(Object.create(logger) as typeof logger, {
      child: (...args: Parameters<typeof logger.child>) => {
        children++;
        return logger.child(...args);
      },
    });
    const log = lazyChildLogger(parent, { reqId: 'req-1' }, {});
    expect(log.level).toBe('info');
    log.debug('below the level');
    expect(lines).toHaveLength(0);
    expect(children).toBe(1); // a call at any level makes the child; pino then drops it
    log.warn({ status: 503 }, 'upstream down');
    log.error(new Error('boom'), 'failed');
    expect(children).toBe(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ reqId: 'req-1', status: 503, msg: 'upstream down', level: 40 });
    expect(lines[1]).toMatchObject({ reqId: 'req-1', msg: 'failed', level: 50 });
    expect((lines[1]?.err as { message?: string } | undefined)?.message).toBe('boom');
  });

  it('a route log level given as child options applies to the child', () => {
    const { logger, lines } = capturingLogger('info');
    const log = lazyChildLogger(logger, { reqId: 'req-2' }, { level: 'error' });
    expect(log.level).toBe('error');
    log.warn('dropped');
    log.error('kept');
    expect(lines.map((l) => l.msg)).toEqual(['kept']);
  });
});

describe('request log lines over HTTP', () => {
  let services: Gateway;
  let app: FastifyInstance;
  const { logger, lines } = capturingLogger('info');
  beforeAll(async () => {
    // Port 1 on loopback: nothing listens, so every chat fails upstream with a 5xx.
    const config = loadConfig({
      env: {},
      overrides: { host: '127.0.0.1', port: 0, upstreams: ['ollama=http://127.0.0.1:1'] },
    });
    services = await createGateway(config, logger);
    app = await buildApp(services);
  });
  afterAll(async () => {
    await app.close();
    await services.close();
  });

  it('a 5xx response is logged at warn with its request id, method, url and status', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/chat',
      headers: { 'x-request-id': 'trace-me-123' },
      payload: { model: 'tinyllama', message: 'hello' },
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(500);
    expect(res.headers['x-request-id']).toBe('trace-me-123');
    const line = lines.find((l) => l.msg === 'response' && l.reqId === 'trace-me-123');
    expect(line).toMatchObject({ level: 40, method: 'POST', url: '/api/v1/chat', status: res.statusCode });
  });

  it('a successful request writes no line at info', async () => {
    const before = lines.length;
    const res = await app.inject({ method: 'GET', url: '/', headers: { 'x-request-id': 'quiet-1' } });
    expect(res.statusCode).toBe(200);
    expect(lines.slice(before).filter((l) => l.reqId === 'quiet-1')).toEqual([]);
  });
});
