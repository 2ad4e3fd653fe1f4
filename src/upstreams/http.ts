import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { errors } from '../errors/catalogue.js';
import type { GatewayError } from '../errors/catalogue.js';
import { clientClosed, mapNetworkError, mapStatus } from './errors.js';
import type { CancelSignal } from '../pipeline/cancel.js';
import type { UpstreamConfig, UpstreamTimeouts } from '../config/upstreams.js';
import type { UpstreamPoolStats } from './types.js';

/**
 * The HTTP side shared by both adapters: one keep-alive undici Pool per upstream, and an
 * UpstreamCall per request that owns the timers, the abort wiring and the error mapping.
 */

type Body = Dispatcher.ResponseData['body'];
type Method = 'GET' | 'POST';

/** An incremental parser of a streamed body: text in, complete items out (see UpstreamCall.parse). */
export interface StreamParser<T> {
  push(text: string): void;
  /** The next complete item, or undefined when more text is needed. */
  next(): T | undefined;
  /** The item left unterminated when the body ended, if any. */
  finish(): T | undefined;
}

export interface UpstreamHttp {
  readonly id: string;
  readonly timeouts: UpstreamTimeouts;
  /** Start a call. Pair every call with `call.end()` in a finally block. */
  call(signal: CancelSignal, model: string | undefined): UpstreamCall;
  /** POST/GET and parse the JSON response in one go (non-streaming). */
  json(
    method: Method,
    path: string,
    payload: string | undefined,
    signal: CancelSignal,
    model?: string,
  ): Promise<unknown>;
  inFlight(): number;
  poolStats(): UpstreamPoolStats;
  close(): Promise<void>;
}

/** Validates the config (fails at start-up, not on the first request) and builds the pool. */
export function createUpstreamHttp(
  cfg: UpstreamConfig,
  extraHeaders: Record<string, string> = {},
): UpstreamHttp {
  const { id, timeouts } = cfg;
  let url: URL;
  try {
    url = new URL(cfg.url);
  } catch {
    throw new Error(`upstream '${id}': invalid url '${cfg.url}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`upstream '${id}': url must be http(s), got '${cfg.url}'`);
  }
  if (!Number.isInteger(cfg.connections) || cfg.connections < 1) {
    throw new Error(`upstream '${id}': connections must be a positive integer`);
  }
  for (const key of ['connectMs', 'totalMs', 'idleMs'] as const) {
    if (!(timeouts[key] > 0)) throw new Error(`upstream '${id}': timeouts.${key} must be > 0`);
  }
  const basePath = url.pathname.replace(/\/+$/, '');
  const pool = new Pool(url.origin, {
    connections: cfg.connections,
    connect: { timeout: timeouts.connectMs },
    // Our own timers (UpstreamCall) fire first; these are a backstop only.
    headersTimeout: timeouts.totalMs + 1000,
    bodyTimeout: Math.max(timeouts.totalMs, timeouts.idleMs) + 1000,
  });
  // One frozen header object shared by every request: nothing is built per call.
  const headers: Record<string, string> = Object.freeze({
    'content-type': 'application/json',
    accept: 'application/json',
    ...extraHeaders,
  });
  const state = { inFlight: 0 };
  const ctx: CallContext = { id, timeouts, pool, basePath, headers, state };

  return {
    id,
    timeouts,
    call: (signal, model) => new UpstreamCall(ctx, signal, model),
    async json(method, path, payload, signal, model) {
      const call = new UpstreamCall(ctx, signal, model);
      try {
        const body = await call.send(method, path, payload);
        return await call.readJson(body);
      } catch (err) {
        throw call.fail(err);
      } finally {
        call.end();
      }
    },
    inFlight: () => state.inFlight,
    poolStats() {
      const s = pool.stats;
      return { connected: s.connected, free: s.free, pending: s.pending, running: s.running };
    },
    close: () => pool.close(),
  };
}

interface CallContext {
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
 * Parsed items a stream may run ahead of its consumer before the upstream socket is paused.
 * Pausing and resuming costs a round through undici and the socket each time, so it is kept for a
 * consumer that really falls behind (a slow client), not for every multi-item network chunk.
 */
const PAUSE_AT = 64;

/**
 * One streamed upstream response, as undici's dispatch handler and as the async iterator of the
 * items `parser` finds in its body. Each network chunk is decoded, parsed and handed to a waiting
 * `next()` inside undici's socket callback: no Readable, no async iterator over it, no generator
 * between the body and the parser (which together cost several async hops and their promises per
 * chunk). Resolves `opened` with itself on a 2xx status; any other status is read to its end and
 * rejected as the mapped error. Errors reach the consumer after the items parsed before them;
 * `return()` (the consumer stopped) aborts the upstream request.
 */
class StreamItems<T> implements AsyncIterableIterator<T>, Dispatcher.DispatchHandler {
  private readonly decoder = new StringDecoder('utf8');
  private readonly queue: T[] = [];
  private head = 0;
  private ended = false;
  private error: Error | undefined = undefined;
  private controller: Dispatcher.DispatchController | undefined = undefined;
  private resolve: ((r: IteratorResult<T>) => void) | undefined = undefined;
  private reject: ((err: unknown) => void) | undefined = undefined;
  /** Pending until the status line: the stream's own promise. */
  private opened: { resolve: (it: StreamItems<T>) => void; reject: (err: unknown) => void } | undefined;
  /** A non-2xx answer being read for its error message. */
  private refusal: { status: number; headers: IncomingHttpHeaders; text: string } | undefined = undefined;

  constructor(
    private readonly call: UpstreamCall,
    private readonly parser: StreamParser<T>,
    resolve: (it: StreamItems<T>) => void,
    reject: (err: unknown) => void,
  ) {
    this.opened = { resolve, reject };
  }

  // ---- undici's side

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.call.attach(controller);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.call.responded();
    if (statusCode >= 200 && statusCode < 300) {
      const opened = this.opened;
      this.opened = undefined;
      opened?.resolve(this);
    } else if (statusCode >= 200) {
      this.refusal = { status: statusCode, headers, text: '' };
    }
    // 1xx informational heads are skipped: the real status follows.
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.refusal !== undefined) {
      this.refusal.text += this.decoder.write(chunk);
      return;
    }
    this.call.received();
    if (!this.feed(this.decoder.write(chunk), false)) return;
    this.settle();
    if (this.queue.length - this.head >= PAUSE_AT && !controller.paused) {
      controller.pause();
      this.call.hold();
    }
  }

  onResponseEnd(): void {
    this.call.bodyEnded();
    const refusal = this.refusal;
    if (refusal !== undefined) {
      refusal.text += this.decoder.end();
      this.rejectOpen(this.call.refused(refusal.status, refusal.headers, refusal.text));
      return;
    }
    if (!this.feed(this.decoder.end(), true)) return;
    this.ended = true;
    this.settle();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.opened !== undefined) this.rejectOpen(err);
    else this.fail(err);
  }

  /** The call was aborted (timeout, client gone): fail now, even before any response. */
  callAborted(failure: Error): void {
    if (this.opened !== undefined) this.rejectOpen(failure);
    else this.fail(failure);
  }

  private rejectOpen(err: unknown): void {
    const opened = this.opened;
    this.opened = undefined;
    opened?.reject(err);
  }

  // ---- the consumer's side

  /** Parses `text` into the queue; a parser error (bad upstream data) fails the stream and aborts the call. */
  private feed(text: string, atEnd: boolean): boolean {
    try {
      const { parser, queue } = this;
      parser.push(text);
      for (let item = parser.next(); item !== undefined; item = parser.next()) queue.push(item);
      if (atEnd) {
        const last = parser.finish();
        if (last !== undefined) queue.push(last);
      }
      return true;
    } catch (err) {
      this.fail(err);
      if (!atEnd) this.controller?.abort(this.error!);
      return false;
    }
  }

  private fail(err: unknown): void {
    if (this.ended || this.error !== undefined) return;
    this.error = err instanceof Error ? err : new Error(String(err));
    this.settle();
  }

  /** Hands the next item, the end or the error to a waiting `next()`. */
  private settle(): void {
    const resolve = this.resolve;
    if (resolve === undefined) return;
    if (this.head < this.queue.length) {
      this.resolve = this.reject = undefined;
      resolve({ done: false, value: this.take() });
    } else if (this.error !== undefined) {
      const reject = this.reject!;
      this.resolve = this.reject = undefined;
      reject(this.error);
    } else if (this.ended) {
      this.resolve = this.reject = undefined;
      resolve({ done: true, value: undefined });
    }
  }

  private take(): T {
    const item = this.queue[this.head++]!;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      if (this.controller?.paused === true) {
        // Release first: resume() can deliver buffered data at once, which may pause (and hold) again.
        this.call.release();
        this.controller.resume();
      }
    }
    return item;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.queue.length) return Promise.resolve({ done: false, value: this.take() });
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.queue.length = 0;
    this.head = 0;
    if (!this.ended && this.error === undefined) {
      this.error = new Error('stream closed by its consumer');
      this.controller?.abort(this.error);
    }
    // A next() still waiting ends too: nothing will settle it once the stream is closed.
    const resolve = this.resolve;
    this.resolve = this.reject = undefined;
    resolve?.({ done: true, value: undefined });
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/**
 * One upstream request. Timers: `totalMs` covers the whole non-streaming call and the time to the
 * first body chunk of a stream; after that `idleMs` limits the silence between chunks. Any stop
 * (caller abort, timeout, early `return()` of the consumer) aborts the undici request, which
 * destroys the socket so the upstream sees the disconnect and frees its slot.
 */
export class UpstreamCall {
  /** The cancel handle of a request() call (send); a stream is cancelled through its controller. */
  private ac: CallAbort | undefined = undefined;
  private controller: Dispatcher.DispatchController | undefined = undefined;
  private items: { callAborted(failure: Error): void } | undefined = undefined;
  private aborted = false;
  private timer: NodeJS.Timeout | undefined;
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
    this.timer = setTimeout(this.onTimeout, ctx.timeouts.totalMs);
  }

  get upstream(): string {
    return this.ctx.id;
  }

  private readonly onTimeout = (): void => {
    this.abort(errors.upstreamTimeout(this.ctx.id, this.idle ? 'idle between stream chunks' : 'total'));
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
    this.signal.removeEventListener('abort', this.onCallerAbort);
    if (!this.completed && !this.aborted) this.abort(clientClosed(undefined));
  }
}
