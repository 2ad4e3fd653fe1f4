import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher, Pool } from 'undici';
import type { UpstreamTimeouts } from '../config/upstreams.js';
import { errors } from '../errors/catalogue.js';
import type { GatewayError } from '../errors/catalogue.js';
import type { CancelSignal } from '../pipeline/cancel.js';
import { clientClosed, mapNetworkError, mapStatus } from './errors.js';
import { StreamItems, type StreamOwner, type StreamParser } from './stream-handler.js';

/*
 * One upstream request as a state machine: send, status, body, timers (total, idle, held while
 * our consumer is behind), abort and error mapping. The pool (pool.ts) makes one per request; a
 * streamed body is read by StreamItems (stream-handler.ts).
 */

type Body = Dispatcher.ResponseData['body'];
export type Method = 'GET' | 'POST';

/** What every call of one upstream shares (built once by pool.ts). */
export interface CallContext {
  id: string;
  timeouts: UpstreamTimeouts;
  pool: Pool;
  basePath: string;
  headers: Record<string, string>;
  state: { inFlight: number };
}

/**
 * The cancel handle given to undici as `signal`. undici takes an EventEmitter with `aborted` and
 * `reason` as well as an AbortSignal; this one costs a plain object, where an AbortController per
 * call allocated an EventTarget-based signal (measured ~10 µs a request in profiles).
 */
class CallAbort extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

/**
 * One upstream request. Timers: a stream gets `ttftMs` to its first body chunk (the first token),
 * then `idleMs` limits the silence between chunks, so an answer that keeps streaming never times
 * out; `totalMs`, when set (> 0), bounds the whole call, streamed or not. Any stop
 * (caller abort, timeout, early `return()` of the consumer) aborts the undici request, which
 * destroys the socket so the upstream sees the disconnect and frees its slot.
 */
export class UpstreamCall implements StreamOwner {
  /** The cancel handle of a request() call (send); a stream is cancelled through its controller. */
  private ac: CallAbort | undefined = undefined;
  private controller: Dispatcher.DispatchController | undefined = undefined;
  private items: { callAborted(failure: Error): void } | undefined = undefined;
  private aborted = false;
  /** The stream's phase timer: time to first token, then the gap between chunks. */
  private timer: NodeJS.Timeout | undefined;
  /** The whole-call limit (totalMs > 0 only). */
  private deadline: NodeJS.Timeout | undefined;
  private idle = false;
  /** The idle timer is stopped while our own consumer holds the body back (see hold()). */
  private held = false;
  private started = false;
  private completed = false;
  private ended = false;
  private failure: GatewayError | undefined;
  private readonly onCallerAbort = (): void => this.abort(clientClosed(this.signal.reason));

  constructor(
    private readonly ctx: CallContext,
    private readonly signal: CancelSignal,
    private readonly model: string | undefined,
  ) {
    ctx.state.inFlight++;
    if (signal.aborted) {
      this.failure = clientClosed(signal.reason);
      return;
    }
    signal.addEventListener('abort', this.onCallerAbort, { once: true });
    if (ctx.timeouts.totalMs > 0) this.deadline = setTimeout(this.onDeadline, ctx.timeouts.totalMs);
  }

  get upstream(): string {
    return this.ctx.id;
  }

  private readonly onTimeout = (): void => {
    this.abort(
      errors.upstreamTimeout(this.ctx.id, this.idle ? 'idle between stream chunks' : 'time to first token'),
    );
  };

  private readonly onDeadline = (): void => {
    this.abort(errors.upstreamTimeout(this.ctx.id, 'total'));
  };

  private abort(failure: GatewayError): void {
    if (this.failure === undefined) this.failure = failure;
    this.aborted = true;
    this.ac?.abort(this.failure);
    this.controller?.abort(this.failure);
    // A stream still waiting for its status (queued in the pool, or slow headers) fails now.
    this.items?.callAborted(this.failure);
  }

  /** Sends the request; resolves with the body of a 2xx response, throws the mapped error otherwise. */
  async send(method: Method, path: string, payload: string | undefined): Promise<Body> {
    if (this.failure !== undefined) throw this.failure;
    this.ac = new CallAbort();
    const res = await this.ctx.pool.request({
      path: this.ctx.basePath + path,
      method,
      headers: this.ctx.headers,
      body: payload,
      signal: this.ac,
    });
    this.started = true;
    if (res.statusCode >= 200 && res.statusCode < 300) return res.body;
    const text = await res.body.text();
    this.completed = true;
    throw mapStatus(this.ctx.id, res.statusCode, res.headers, text, this.model);
  }

  /** Reads and parses a whole JSON body. */
  async readJson(body: Body): Promise<unknown> {
    const text = await body.text();
    this.completed = true;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw errors.upstreamBadResponse(this.ctx.id, 'response is not valid JSON');
    }
  }

  /**
   * Sends a streaming request. Resolves on a 2xx status with the items `parser` finds in the body
   * (NDJSON objects, SSE events), each as soon as it is complete (see StreamItems); throws the
   * mapped error otherwise. Switches from the total timer to the idle timer on the first body
   * piece and re-arms it on every piece.
   */
  stream<T>(
    method: Method,
    path: string,
    payload: string | undefined,
    parser: StreamParser<T>,
  ): Promise<AsyncIterableIterator<T>> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.timer = setTimeout(this.onTimeout, this.ctx.timeouts.ttftMs);
    return new Promise((resolve, reject) => {
      const items = new StreamItems(this, parser, resolve, reject);
      this.items = items;
      this.ctx.pool.dispatch(
        { path: this.ctx.basePath + path, method, headers: this.ctx.headers, body: payload },
        items,
      );
    });
  }

  /** undici is about to send the request (StreamItems): its controller aborts it from now on. */
  attach(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.aborted) controller.abort(this.failure ?? clientClosed(undefined));
  }

  /** The status line arrived (StreamItems). */
  responded(): void {
    this.started = true;
  }

  /** The error for a non-2xx answer, once its body has been read (StreamItems). */
  refused(status: number, headers: IncomingHttpHeaders, text: string): GatewayError {
    return mapStatus(this.ctx.id, status, headers, text, this.model);
  }

  /** A body piece arrived (StreamItems). */
  received(): void {
    this.touch();
  }

  /**
   * The body was read to its end (StreamItems): the connection can go back to the pool, and the
   * upstream has nothing left to be late with, however slowly the chunks are consumed.
   */
  bodyEnded(): void {
    this.completed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.deadline !== undefined) clearTimeout(this.deadline);
  }

  /**
   * The body is paused because our consumer is behind (StreamItems): the silence that follows is
   * ours, not the upstream's, so the idle timer stops until release().
   */
  hold(): void {
    if (this.timer === undefined || this.held) return;
    this.held = true;
    clearTimeout(this.timer);
  }

  /** The paused body is read again: the upstream gets a fresh idle limit. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    if (!this.completed && !this.ended) this.timer = setTimeout(this.onTimeout, this.ctx.timeouts.idleMs);
  }

  /** Throws if the call was aborted: stops a consumer from draining already-buffered chunks. */
  check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private touch(): void {
    if (this.timer === undefined || this.held) return;
    if (this.idle) {
      this.timer.refresh();
      return;
    }
    this.idle = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(this.onTimeout, this.ctx.timeouts.idleMs);
  }

  /** The error to throw for `err` caught during this call (an abort reason wins over its symptom). */
  fail(err: unknown): GatewayError {
    if (this.failure !== undefined) return this.failure;
    return mapNetworkError(this.ctx.id, err, this.started);
  }

  /** Releases timers and listeners; aborts the upstream request if its body was not fully read. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.ctx.state.inFlight--;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.deadline !== undefined) clearTimeout(this.deadline);
    this.signal.removeEventListener('abort', this.onCallerAbort);
    if (!this.completed && !this.aborted) this.abort(clientClosed(undefined));
  }
}
