import type { GatewayError } from '../../errors/catalogue.js';

/** A stream being written that can be ended early with its surface's error frame. */
export interface CuttableStream {
  /** Write `err` as the surface's error frame, end the response and stop the upstream call. */
  cut(err: GatewayError): void;
  /** Resolves once the response has been handed to the socket in full (or the socket closed). */
  readonly finished: Promise<void>;
}

/**
 * The streams an app is writing right now, so that a shutdown whose grace period runs out can end
 * each with a protocol-correct error frame (issue 23, finding 8) instead of cutting it mid-frame.
 */
export interface OpenStreams {
  add(s: CuttableStream): void;
  delete(s: CuttableStream): void;
  readonly size: number;
  /** Cut every open stream with `err`; resolves when all have flushed, or after `flushMs`. */
  cutAll(err: GatewayError, flushMs: number): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Streams being written (src/http/stream/open-streams.ts); set by buildApp. */
    sutazaiStreams?: OpenStreams;
  }
}

export function createOpenStreams(): OpenStreams {
  const open = new Set<CuttableStream>();
  return {
    add: (s) => open.add(s),
    delete: (s) => open.delete(s),
    get size() {
      return open.size;
    },
    async cutAll(err, flushMs) {
      const streams = [...open];
      open.clear();
      for (const s of streams) s.cut(err);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(streams.map((s) => s.finished)),
        new Promise<void>((r) => (timer = setTimeout(r, flushMs))),
      ]);
      clearTimeout(timer);
    },
  };
}
