import type { FastifyBaseLogger } from 'fastify';
import type { UsageRepository, UsageRow } from '../store/usage.js';

export interface UsageStats {
  /** Rows waiting to be written. */
  buffered: number;
  written: number;
  /** Rows dropped because the buffer was full while the store was unreachable. */
  dropped: number;
  /** The last write failed (the store is unreachable); cleared by the next successful write. */
  failing: string | undefined;
}

export interface UsageRecorder {
  /** Queue one row: an array push, nothing else on the request path. */
  record(row: UsageRow): void;
  /** Write what is buffered now (tests, shutdown). Resolves when the buffer is empty or a write failed. */
  flush(): Promise<void>;
  stats(): UsageStats;
  /** Final flush (bounded by `closeMs`), then stop. */
  close(): Promise<void>;
}

export interface UsageRecorderDeps {
  repo: UsageRepository;
  logger: FastifyBaseLogger;
  /** Write interval (ms). */
  flushMs: number;
  /** Rows kept while the store is away; beyond it the oldest are dropped and counted. */
  maxBuffered: number;
  /** Rows per INSERT. Default 500. */
  batchRows?: number;
  /** How long close() waits for the last write (ms). Default 5000. */
  closeMs?: number;
}

/**
 * The usage log's writer: rows are buffered in memory and written in multi-row INSERTs on a timer,
 * off the request path. While the store is unreachable the rows stay buffered (up to
 * `maxBuffered`, then the oldest are dropped and counted) and are written once it is back.
 */
export function createUsageRecorder(deps: UsageRecorderDeps): UsageRecorder {
  const { repo, logger } = deps;
  const batchRows = deps.batchRows ?? 500;
  let buffer: UsageRow[] = [];
  let written = 0;
  let dropped = 0;
  let failing: string | undefined;
  let writing: Promise<void> | undefined;

  async function writeAll(): Promise<void> {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, batchRows);
      try {
        await repo.insertMany(batch);
      } catch (err) {
        if (failing === undefined)
          logger.warn({ err, buffered: buffer.length }, 'usage log: store unreachable, rows kept in memory');
        failing = (err as Error).message;
        return;
      }
      // Rows dropped while this batch was in flight came off the front: drop only what is left of it.
      buffer.splice(0, Math.min(batch.length, buffer.indexOf(batch.at(-1)!) + 1));
      written += batch.length;
      if (failing !== undefined) {
        logger.info({ buffered: buffer.length }, 'usage log: store reachable again, writing buffered rows');
        failing = undefined;
      }
    }
  }

  const flush = () => {
    writing ??= writeAll().finally(() => (writing = undefined));
    return writing;
  };
  const timer = setInterval(() => {
    if (buffer.length > 0) void flush();
  }, deps.flushMs);
  timer.unref();

  return {
    record(row) {
      buffer.push(row);
      if (buffer.length > deps.maxBuffered) {
        const excess = buffer.length - deps.maxBuffered;
        // Drop in chunks (a tenth of the bound) so a full buffer does not copy itself per request.
        const n = Math.max(excess, Math.ceil(deps.maxBuffered / 10));
        buffer = buffer.slice(n);
        dropped += n;
      }
    },
    flush,
    stats: () => ({ buffered: buffer.length, written, dropped, failing }),
    async close() {
      clearInterval(timer);
      await Promise.race([flush(), new Promise((r) => setTimeout(r, deps.closeMs ?? 5000).unref())]);
      if (buffer.length > 0) logger.warn({ rows: buffer.length }, 'usage log: rows not written at shutdown');
    },
  };
}
