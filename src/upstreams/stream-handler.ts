import type { IncomingHttpHeaders } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { Dispatcher } from 'undici';
import type { GatewayError } from '../errors/catalogue.js';

/*
 * undici's dispatch handler for one streamed upstream response, which is also the async iterator
 * of the items found in its body. The call that owns it (call.ts) is told of each step through
 * StreamOwner, so this file needs nothing of the call's timers or error mapping.
 */

/** An incremental parser of a streamed body: text in, complete items out (see UpstreamCall.parse). */
export interface StreamParser<T> {
  push(text: string): void;
  /** The next complete item, or undefined when more text is needed. */
  next(): T | undefined;
  /** The item left unterminated when the body ended, if any. */
  finish(): T | undefined;
}

/** What the stream tells the call that owns it (UpstreamCall in call.ts). */
export interface StreamOwner {
  /** undici is about to send the request: its controller aborts it from now on. */
  attach(controller: Dispatcher.DispatchController): void;
  /** The status line arrived. */
  responded(): void;
  /** The error for a non-2xx answer, once its body has been read. */
  refused(status: number, headers: IncomingHttpHeaders, text: string): GatewayError;
  /** A body piece arrived. */
  received(): void;
  /** The body was read to its end. */
  bodyEnded(): void;
  /** The body is paused because our consumer is behind. */
  hold(): void;
  /** The consumer caught up: the body flows again. */
  release(): void;
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
export class StreamItems<T> implements AsyncIterableIterator<T>, Dispatcher.DispatchHandler {
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
    private readonly call: StreamOwner,
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
