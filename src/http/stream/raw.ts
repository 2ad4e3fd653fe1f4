import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * A streaming response written straight to the socket: each write is flushed as it comes
 * (no compression, no buffering) and honours backpressure.
 */
export interface RawStream {
  write(data: string): Promise<void>;
  /**
   * Like write(), for per-chunk loops: undefined when the data was taken with no backpressure,
   * else a promise of the drain, so the loop awaits only when it has to (an await per chunk is
   * a microtask and a few allocations).
   */
  push(data: string): Promise<void> | undefined;
  end(data?: string): void;
  /** True once the client is gone; stop producing. */
  readonly closed: boolean;
}

export interface RawStreamOptions {
  headers?: Record<string, string>;
  status?: number;
  /**
   * Send the headers now (default). Streams that write their first piece at once pass false: the
   * headers then leave with that piece in one packet, a syscall and a round of latency cheaper.
   */
  flushHeaders?: boolean;
}

export function openRawStream(
  reply: FastifyReply,
  contentType: string,
  { headers = {}, status = 200, flushHeaders = true }: RawStreamOptions = {},
): RawStream {
  // The reply's own headers (x-request-id, any a hook set) go out too: hijacking skips Fastify's send.
  const head = reply.getHeaders() as OutgoingHttpHeaders;
  head['content-type'] = contentType;
  head['cache-control'] = 'no-cache';
  head['x-accel-buffering'] = 'no';
  // No Connection header of our own: Node answers keep-alive, or close when the client asked for it.
  for (const k in headers) head[k] = headers[k];
  reply.hijack();
  const res: ServerResponse = reply.raw;
  res.writeHead(status, head);
  if (flushHeaders) res.flushHeaders();
  function push(data: string): Promise<void> | undefined {
    if (res.destroyed || res.writableEnded || res.write(data)) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }
  return {
    get closed() {
      return res.destroyed || res.writableEnded;
    },
    write(data) {
      return push(data) ?? Promise.resolve();
    },
    push,
    end(data) {
      if (!res.destroyed && !res.writableEnded) res.end(data);
    },
  };
}
