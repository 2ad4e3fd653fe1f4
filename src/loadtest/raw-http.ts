import { connect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';

/**
 * One keep-alive HTTP/1.1 connection on a plain socket, one request at a time: the load
 * generator's client. undici costs 40-50 µs of CPU per request here, which at a cache hit is more
 * than the server under test spends, so its own queueing showed up as server latency (p50 1.3 ms
 * where an exact client saw 0.5 ms). This writes each request with one `write()` and parses the
 * answer in place: status line, headers, a Content-Length or chunked body (what every target
 * here sends), handing body text to the caller as it arrives (streams) or at once (the rest).
 */
export interface HttpRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpBody extends AsyncIterable<string> {
  /** When the last byte was read (hrtime ns); undefined until then. */
  readonly endNs: bigint | undefined;
  /** The whole body as text (UTF-8). */
  text(): Promise<string>;
  /** Read and discard the rest. */
  dump(): Promise<void>;
}

export interface HttpResponse {
  statusCode: number;
  body: HttpBody;
}

export interface HttpConnection {
  request(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface HttpConnectionOptions {
  /** No response byte for this long while a request is in flight = ETIMEDOUT. */
  timeoutMs: number;
  connectTimeoutMs?: number;
  /** Called with each new TCP connection's connect time (ms), or with NaN when it failed. */
  onConnect?: (ms: number) => void;
}

/** A transport error with a Node-style code (classified by execute.ts). */
class HttpError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const CRLF2 = Buffer.from('\r\n\r\n');

/**
 * Completions are handed to the caller from one setImmediate per event-loop turn, after every
 * socket that is readable in this turn has been read and its replies stamped: the tool's work on
 * one reply (parse, check, record, next request) is then never counted in another reply's time.
 */
let deferred: Array<() => void> = [];
function runDeferred(): void {
  const q = deferred;
  deferred = [];
  for (const fn of q) fn();
}
function defer(fn: () => void): void {
  if (deferred.length === 0) setImmediate(runDeferred);
  deferred.push(fn);
}
/** Chunked body states besides "bytes of this chunk left" (> 0) and "size line next" (0). */
const AFTER_DATA = -1;
const AFTER_LAST = -3;

/** Body text delivered in pieces; iterated (streams) or read whole. */
class BodyQueue implements HttpBody {
  endNs: bigint | undefined;
  private parts: string[] = [];
  private done = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  push(s: string): void {
    if (s.length > 0) this.parts.push(s);
    this.notify();
  }
  end(err?: Error): void {
    if (this.done) return;
    this.done = true;
    this.error = err;
    this.notify();
  }
  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  private wait(): Promise<void> {
    return new Promise((r) => (this.wake = r));
  }
  async text(): Promise<string> {
    while (!this.done) await this.wait();
    if (this.error) throw this.error;
    const s = this.parts.length === 1 ? (this.parts[0] as string) : this.parts.join('');
    this.parts = [];
    return s;
  }
  async dump(): Promise<void> {
    await this.text().catch(() => undefined);
  }
  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      if (this.parts.length > 0) {
        const p = this.parts;
        this.parts = [];
        for (const s of p) yield s;
        continue;
      }
      if (this.done) {
        if (this.error) throw this.error;
        return;
      }
      await this.wait();
    }
  }
}

export function createHttpConnection(origin: string, opts: HttpConnectionOptions): HttpConnection {
  const u = new URL(origin);
  if (u.protocol !== 'http:') throw new Error(`only http:// targets are supported (got ${u.protocol})`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 80);
  const hostHeader = `host: ${u.host}\r\n`;

  let socket: Socket | undefined;
  let connecting: Promise<Socket> | undefined;
  // The response being read.
  let current:
    | {
        resolve: (r: HttpResponse) => void;
        reject: (e: Error) => void;
        body: BodyQueue | undefined;
        /** -1 = chunked, -2 = until close, else bytes of body left. */
        left: number;
        chunkLeft: number;
        keepAlive: boolean;
        decoder: StringDecoder;
      }
    | undefined;
  let buf: Buffer | undefined;
  let lastError: Error | undefined;
  const readBuffer = Buffer.allocUnsafe(64 * 1024);
  // One timer per connection, re-armed with refresh() per request and per read (cheaper than
  // socket.setTimeout, which re-arms through the stream layer).
  const timeout = setTimeout(() => {
    if (current !== undefined)
      socket?.destroy(new HttpError('ETIMEDOUT', `no answer in ${opts.timeoutMs} ms`));
  }, opts.timeoutMs);
  timeout.unref();

  const open = (): Promise<Socket> => {
    connecting ??= new Promise<Socket>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      // `onread`: reads land in one buffer of this connection, no stream machinery per chunk.
      const s = connect({
        host,
        port,
        noDelay: true,
        onread: {
          buffer: readBuffer,
          callback: (n: number, b: Uint8Array) => {
            onData(b as Buffer, n);
            return true;
          },
        },
      });
      const timer = setTimeout(
        () => s.destroy(new HttpError('ETIMEDOUT', 'connect timeout')),
        opts.connectTimeoutMs ?? 10_000,
      );
      s.once('connect', () => {
        clearTimeout(timer);
        opts.onConnect?.(Number(process.hrtime.bigint() - t0) / 1e6);
        lastError = undefined;
        s.setKeepAlive(true);
        socket = s;
        connecting = undefined;
        resolve(s);
      });
      s.on('error', (err) => {
        clearTimeout(timer);
        lastError = err;
        if (socket !== s && connecting !== undefined) {
          opts.onConnect?.(Number.NaN);
          connecting = undefined;
          reject(err);
        }
      });
      s.once('close', () => {
        if (socket === s) socket = undefined;
        buf = undefined;
        const c = current;
        if (c === undefined) return;
        current = undefined;
        const err = lastError ?? new HttpError('ECONNRESET', 'connection closed by the server');
        lastError = undefined;
        if (c.body === undefined) c.reject(err);
        else if (c.left === -2) c.body.end();
        else c.body.end(err);
      });
    });
    return connecting;
  };

  function finish(): void {
    const c = current;
    if (c === undefined) return;
    current = undefined;
    const body = c.body;
    if (body !== undefined) {
      body.endNs = process.hrtime.bigint();
      body.push(c.decoder.end());
      defer(() => body.end());
    }
    if (!c.keepAlive) socket?.destroy();
  }

  /** Feed body bytes from `data[from..]`; returns the offset after what belonged to this response. */
  function feedBody(data: Buffer, from: number): number {
    const c = current!;
    let i = from;
    while (current === c && i < data.length) {
      if (c.left >= 0) {
        const n = Math.min(c.left, data.length - i);
        c.body!.push(c.decoder.write(data.subarray(i, i + n)));
        c.left -= n;
        i += n;
        if (c.left === 0) finish();
      } else if (c.left === -2) {
        c.body!.push(c.decoder.write(data.subarray(i)));
        i = data.length;
      } else if (c.chunkLeft > 0) {
        const n = Math.min(c.chunkLeft, data.length - i);
        c.body!.push(c.decoder.write(data.subarray(i, i + n)));
        c.chunkLeft -= n;
        i += n;
        if (c.chunkLeft === 0) c.chunkLeft = AFTER_DATA;
      } else if (c.chunkLeft === AFTER_DATA || c.chunkLeft === AFTER_LAST) {
        if (data.length - i < 2) return i; // wait for the CRLF
        i += 2;
        if (c.chunkLeft === AFTER_LAST) finish();
        else c.chunkLeft = 0;
      } else {
        const nl = data.indexOf('\r\n', i);
        if (nl < 0) return i; // incomplete size line: wait for more bytes
        const size = parseInt(data.toString('latin1', i, nl), 16);
        i = nl + 2;
        // The last chunk has size 0; these servers send no trailers, so a CRLF follows.
        c.chunkLeft = size > 0 ? size : AFTER_LAST;
      }
    }
    return i;
  }

  /** `chunk[0..n)` is only valid during this call: whatever is kept is copied. */
  function onData(chunk: Buffer, n: number): void {
    if (current !== undefined) timeout.refresh();
    const data = buf === undefined ? chunk.subarray(0, n) : Buffer.concat([buf, chunk.subarray(0, n)]);
    buf = undefined;
    let i = 0;
    while (current !== undefined && i < data.length) {
      const c = current;
      if (c.body === undefined) {
        const end = data.indexOf(CRLF2, i);
        if (end < 0) break;
        const head = data.toString('latin1', i, end);
        i = end + 4;
        const status = Number(head.slice(9, 12));
        if (status >= 100 && status < 200) continue;
        let length = -2;
        let keepAlive = head.startsWith('HTTP/1.1');
        for (const line of head.split('\r\n')) {
          const colon = line.indexOf(':');
          if (colon < 0) continue;
          const name = line.slice(0, colon).toLowerCase();
          const value = line
            .slice(colon + 1)
            .trim()
            .toLowerCase();
          if (name === 'content-length') length = Number(value);
          else if (name === 'transfer-encoding' && value.includes('chunked')) length = -1;
          else if (name === 'connection') keepAlive = value !== 'close';
        }
        if (status === 204 || status === 304) length = 0;
        c.left = length;
        c.keepAlive = keepAlive && length !== -2;
        const body = new BodyQueue();
        c.body = body;
        const resolve = c.resolve;
        defer(() => resolve({ statusCode: status, body }));
        if (length === 0) finish();
        continue;
      }
      const next = feedBody(data, i);
      if (next === i) break;
      i = next;
    }
    if (current !== undefined && i < data.length) buf = Buffer.from(data.subarray(i));
  }

  return {
    async request(req) {
      const s = socket ?? (await open());
      let head = `${req.method} ${req.path} HTTP/1.1\r\n${hostHeader}`;
      for (const k in req.headers) head += `${k}: ${req.headers[k]}\r\n`;
      if (req.body !== undefined) head += `content-length: ${Buffer.byteLength(req.body)}\r\n\r\n${req.body}`;
      else head += '\r\n';
      return new Promise<HttpResponse>((resolve, reject) => {
        current = {
          resolve,
          reject,
          body: undefined,
          left: 0,
          chunkLeft: 0,
          keepAlive: true,
          decoder: new StringDecoder('utf8'),
        };
        timeout.refresh();
        s.write(head);
      });
    },
    async close() {
      clearTimeout(timeout);
      const s = socket ?? (connecting ? await connecting.catch(() => undefined) : undefined);
      s?.destroy();
    },
  };
}
