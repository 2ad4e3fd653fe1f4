import { isGatewayError, type GatewayError } from '../errors/catalogue.js';
import type { CancelSignal } from '../pipeline/cancel.js';
import type { Upstream } from '../pipeline/pipeline.js';
import type { ChatRequest, Chunk, EmbedRequest, EmbedResult, GenerateRequest } from '../pipeline/types.js';
import type { Member } from './member.js';

/*
 * One request's route: picks an upstream, records what the call shows about its health (passive
 * observation feeds the circuit breaker at once), and retries on another upstream a call that
 * failed before any byte reached the client — connection refused or reset before headers,
 * 503/429 busy, connect timeout, a model the upstream no longer has — bounded and with jitter.
 * A stream is retried only until its first chunk: after that the client may have seen bytes.
 */

/** What the route needs from the model catalog (registry.ts). */
export interface RouteHost {
  /** The upstream to try next, `tried` excluded; undefined when none is left. */
  pick(model: string, candidates: readonly Member[], tried: readonly Member[]): Member | undefined;
  /** The error when no candidate can take the request at all (every circuit open). */
  noneLeft(model: string, candidates: readonly Member[]): GatewayError;
  /** The upstream said it lacks a model its listing named: re-list. */
  stale(): void;
  /** Retries after the first attempt. */
  readonly retries: number;
}

/** Errors after which the same request may go to another upstream (nothing was generated). */
function retriable(err: unknown): boolean {
  if (!isGatewayError(err)) return false;
  switch (err.code) {
    case 'SUTAZAI_ERR_UPSTREAM_UNAVAILABLE':
    case 'SUTAZAI_ERR_UPSTREAM_BUSY':
    case 'SUTAZAI_ERR_MODEL_NOT_FOUND':
      return true;
    case 'SUTAZAI_ERR_UPSTREAM_TIMEOUT':
      return err.message.endsWith('(connect)');
    default:
      return false;
  }
}

/** Feeds a failed call's error to the upstream's breaker (client aborts and busy answers do not count). */
function observe(host: RouteHost, m: Member, err: unknown): void {
  if (!isGatewayError(err)) return;
  switch (err.code) {
    case 'SUTAZAI_ERR_UPSTREAM_UNAVAILABLE':
      m.breaker.failure(err.message, true);
      break;
    case 'SUTAZAI_ERR_UPSTREAM_TIMEOUT':
    case 'SUTAZAI_ERR_UPSTREAM_ERROR':
    case 'SUTAZAI_ERR_UPSTREAM_BAD_RESPONSE':
      m.breaker.failure(err.message, false);
      break;
    case 'SUTAZAI_ERR_MODEL_NOT_FOUND':
      host.stale();
      break;
    default:
  }
}

const jitter = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));

/** The Upstream the pipeline calls for one request; `id` names the upstream that answered. */
export class Route implements Upstream {
  id: string;

  constructor(
    private readonly host: RouteHost,
    private readonly model: string,
    private readonly candidates: readonly Member[],
    /** The upstream picked when the route was resolved: the first attempt goes there. */
    private readonly first: Member,
  ) {
    this.id = first.id;
  }

  /** Runs `attempt` on picked upstreams until one succeeds or no retry is left. */
  async run<T>(signal: CancelSignal, attempt: (m: Member) => Promise<T>): Promise<T> {
    const tried: Member[] = [];
    let last: Error | undefined = undefined;
    for (;;) {
      const m =
        tried.length === 0 && this.first.breaker.closed
          ? this.first
          : this.host.pick(this.model, this.candidates, tried);
      if (m === undefined) throw last ?? this.host.noneLeft(this.model, this.candidates);
      if (last !== undefined) {
        tried[tried.length - 1]!.retries++;
        await jitter(tried.length);
      }
      this.id = m.id;
      try {
        const value = await attempt(m);
        m.breaker.success();
        return value;
      } catch (err) {
        observe(this.host, m, err);
        if (!retriable(err) || tried.length >= this.host.retries || signal.aborted) throw err;
        tried.push(m);
        last = err as Error; // retriable() holds only for GatewayErrors
      }
    }
  }

  chat(req: ChatRequest, signal: CancelSignal): AsyncIterable<Chunk> {
    return new RoutedStream(this, signal, (m) => m.adapter.chat(req, signal));
  }

  generate(req: GenerateRequest, signal: CancelSignal): AsyncIterable<Chunk> {
    return new RoutedStream(this, signal, (m) => m.adapter.generate(req, signal));
  }

  embed(req: EmbedRequest, signal: CancelSignal): Promise<EmbedResult> {
    return this.run(signal, (m) => m.adapter.embed(req, signal));
  }

  /** A failure after the first chunk: counted against the upstream that was streaming. */
  late(m: Member, err: unknown): void {
    observe(this.host, m, err);
  }
}

interface Opened {
  it: AsyncIterator<Chunk>;
  first: IteratorResult<Chunk>;
  member: Member;
}

/**
 * The chunks of a routed generation: the first `next()` runs the route (retrying elsewhere while
 * nothing has been received), the rest come straight from the upstream that answered.
 */
class RoutedStream implements AsyncIterableIterator<Chunk> {
  private it: AsyncIterator<Chunk> | undefined = undefined;
  private member: Member | undefined = undefined;
  private done = false;
  private readonly onLate = (err: unknown): never => {
    if (this.member !== undefined) this.route.late(this.member, err);
    throw err;
  };

  constructor(
    private readonly route: Route,
    private readonly signal: CancelSignal,
    private readonly open: (m: Member) => AsyncIterable<Chunk>,
  ) {}

  next(): Promise<IteratorResult<Chunk>> {
    if (this.it !== undefined) return this.it.next().then(undefined, this.onLate);
    if (this.done) return Promise.resolve({ done: true, value: undefined });
    return this.route
      .run(this.signal, async (member): Promise<Opened> => {
        const it = this.open(member)[Symbol.asyncIterator]();
        try {
          return { it, first: await it.next(), member };
        } catch (err) {
          await it.return?.().catch(() => undefined);
          throw err;
        }
      })
      .then(({ it, first, member }) => {
        this.it = it;
        this.member = member;
        return first;
      });
  }

  return(): Promise<IteratorResult<Chunk>> {
    this.done = true;
    const it = this.it;
    this.it = undefined;
    return it?.return?.() ?? Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Chunk> {
    return this;
  }
}
