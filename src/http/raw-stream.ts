import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * A streaming response written straight to the socket: each write is flushed as it comes
 * (no compression, no buffering) and honours backpressure.
 */
export interface RawStream {
  write(data: string): Promise<void>;
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
  reply.hijack();
  const res: ServerResponse = reply.raw;
  res.writeHead(status, {
    'content-type': contentType,
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
    ...headers,
  });
  if (flushHeaders) res.flushHeaders();
  return {
    get closed() {
      return res.destroyed || res.writableEnded;
    },
    write(data) {
      if (res.destroyed || res.writableEnded) return Promise.resolve();
      if (res.write(data)) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    },
    end(data) {
      if (!res.destroyed && !res.writableEnded) res.end(data);
    },
  };
}
