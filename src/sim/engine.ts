import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { sendJson, SimHttpError } from './http.js';
import type { SimToolCall } from './text.js';

/** One HTTP exchange; `closed` flips when the response closes (finished or client gone). */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** process.hrtime.bigint() when the request arrived. */
  readonly t0: bigint;
  closed: boolean;
  /** Cleanup to run when the response closes (slot, queue entry, timers). */
  onClose: (() => void) | undefined;
}

export type Piece = string | SimToolCall;

/** Real elapsed times in nanoseconds, each at least 1 (Ollama omits zero metrics). */
export interface Timing {
  totalNs: number;
  loadNs: number;
  promptEvalNs: number;
  evalNs: number;
}

/** How one protocol surface writes a generation. */
export interface Renderer {
  /** Next output piece (streams write it at once; full responses collect it). */
  piece(p: Piece): void;
  /** Normal end: final line/event, or the full response body. */
  finish(t: Timing): void;
  /** Error before any byte: status and message in this surface's envelope. */
  fail(err: SimHttpError): void;
  /** Error part-way: streams write an error line/event and end; full responses answer 500. */
  midStreamError(message: string): void;
}

export const QUEUE_FULL_MESSAGE = 'server busy, please try again.  maximum pending requests exceeded';
export const MID_STREAM_MESSAGE =
  'an error was encountered while running the model: simulated mid-stream failure';

function ns(from: bigint, to: bigint): number {
  const d = Number(to - from);
  return d >= 1 ? d : 1;
}

/**
 * Run one generation/embedding: faults, slot (FIFO queue, 503 when full), timed pieces, end.
 * Client disconnect at any point frees the slot or leaves the queue and counts as aborted.
 */
export function runGeneration(ctx: SimContext, ex: Exchange, r: Renderer, pieces: readonly Piece[]): void {
  if (ex.closed) return;
  const { faults, counters, slots, opts } = ctx;
  if (faults.failNext > 0) {
    faults.failNext--;
    const status = faults.failNextStatus > 0 ? faults.failNextStatus : 500;
    if (status === 503) counters.rejected503++;
    r.fail(
      new SimHttpError(status, status === 503 ? QUEUE_FULL_MESSAGE : `simulated failure (HTTP ${status})`),
    );
    return;
  }
  if (faults.errorRate > 0 && ctx.rng() < faults.errorRate) {
    r.fail(new SimHttpError(500, 'simulated server error'));
    return;
  }

  let state: 'queued' | 'running' | 'done' = 'queued';
  let timer: NodeJS.Timeout | undefined;
  let tAcquired = ex.t0;
  let tFirst: bigint | undefined;

  const start = (): void => {
    if (ex.closed) {
      // Granted after the client left: hand the slot straight back.
      state = 'done';
      slots.release();
      return;
    }
    state = 'running';
    counters.generations++;
    tAcquired = process.hrtime.bigint();
    const n = pieces.length;
    const mid = faults.midStreamErrorRate > 0 && ctx.rng() < faults.midStreamErrorRate;
    const stall = !mid && faults.stallRate > 0 && ctx.rng() < faults.stallRate;
    const limit = mid || stall ? (n >= 2 ? Math.floor(n / 2) : n) : n;
    const interval = opts.tps > 0 ? 1000 / opts.tps : 0;
    const firstAt = performance.now() + opts.ttftMs;
    let i = 0;

    const emit = (): void => {
      if (tFirst === undefined) tFirst = process.hrtime.bigint();
      r.piece(pieces[i] as Piece);
      i++;
    };
    const end = (): void => {
      if (stall) return; // hold the slot and the connection until the client goes away
      state = 'done';
      slots.release();
      if (mid) {
        r.midStreamError(MID_STREAM_MESSAGE);
        return;
      }
      const tEnd = process.hrtime.bigint();
      const first = tFirst ?? tEnd;
      r.finish({
        totalNs: ns(ex.t0, tEnd),
        loadNs: ns(ex.t0, tAcquired),
        promptEvalNs: ns(tAcquired, first),
        evalNs: ns(first, tEnd),
      });
    };
    const step = (): void => {
      timer = undefined;
      if (ex.closed) return;
      if (interval === 0) {
        // Zero-latency burst: separate lines/events, but one socket write for the lot.
        ex.res.cork();
        while (i < limit) emit();
        end();
        ex.res.uncork();
        return;
      }
      if (i < limit) emit();
      if (i >= limit) end();
      else timer = setTimeout(step, Math.max(0, firstAt + i * interval - performance.now()));
    };
    if (opts.ttftMs > 0) timer = setTimeout(step, opts.ttftMs);
    else step();
  };

  const got = slots.acquire(start);
  if (got === null) {
    counters.rejected503++;
    r.fail(new SimHttpError(503, QUEUE_FULL_MESSAGE));
    return;
  }
  ex.onClose = () => {
    if (state === 'done') return;
    counters.aborted++;
    if (state === 'queued' && got !== true) slots.cancel(got);
    if (state === 'running') {
      if (timer !== undefined) clearTimeout(timer);
      slots.release();
    }
    state = 'done';
  };
  if (got === true) start();
}

/** A renderer for one-shot JSON answers (embeddings) that still go through slots and faults. */
export function oneShotRenderer(
  ex: Exchange,
  body: (t: Timing) => unknown,
  sendError: (ex: Exchange, err: SimHttpError) => void,
): Renderer {
  return {
    piece: () => undefined,
    finish: (t) => sendJson(ex.res, 200, body(t)),
    fail: (err) => sendError(ex, err),
    midStreamError: (message) => sendError(ex, new SimHttpError(500, message)),
  };
}
