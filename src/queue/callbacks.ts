import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { Agent, fetch } from 'undici';
import { errors } from '../errors/catalogue.js';
import {
  checkResolvedHost,
  guardedLookup,
  isLiteralHost,
  PrivateAddressError,
  type Resolver,
} from './ssrf.js';

/**
 * `callback_url` must be http(s) and its host must be listed in `allowed` ("host" allows any
 * port, "host:port" only that port). Anything else is a 400 at submission: the gateway never
 * posts to arbitrary addresses (no open SSRF). Returns the normalised URL.
 */
export function checkCallbackUrl(raw: string, allowed: readonly string[]): string {
  if (!URL.canParse(raw)) throw errors.validation('callback_url: not a valid URL', 'callback_url');
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw errors.validation('callback_url: must be an http or https URL', 'callback_url');
  }
  if (url.username || url.password) {
    throw errors.validation('callback_url: must not contain credentials', 'callback_url');
  }
  if (!isAllowedHost(url, allowed)) {
    const why =
      allowed.length === 0
        ? 'callbacks are disabled (SUTAZAI_CALLBACK_ALLOWED_HOSTS is empty)'
        : 'host not allowed';
    throw errors.validation(`callback_url: ${why}`, 'callback_url');
  }
  return url.toString();
}

/**
 * At submission, after checkCallbackUrl: a host name must resolve to public addresses unless
 * private ones are allowed (SUTAZAI_CALLBACK_ALLOW_PRIVATE); an address (or localhost) written in
 * the allow-list is allowed as written. 400 naming the address otherwise. Delivery checks again,
 * on the address it connects to.
 */
export async function checkCallbackTarget(
  normalised: string,
  allowPrivate: boolean,
  resolve?: Resolver,
): Promise<void> {
  const host = new URL(normalised).hostname;
  if (allowPrivate || isLiteralHost(host)) return;
  try {
    await checkResolvedHost(host, allowPrivate, resolve);
  } catch (err) {
    if (err instanceof PrivateAddressError)
      throw errors.validation(`callback_url: ${err.message}`, 'callback_url');
    throw errors.validation(`callback_url: ${host} cannot be resolved`, 'callback_url');
  }
}

export function isAllowedHost(url: URL, allowed: readonly string[]): boolean {
  const host = url.host.toLowerCase();
  const hostname = url.hostname.toLowerCase();
  return allowed.some((a) => {
    const entry = a.trim().toLowerCase();
    return entry === host || entry === hostname;
  });
}

export interface CallbackSenderOptions {
  allowedHosts: readonly string[];
  /** Let host names resolve to loopback/private/link-local addresses. Default false. */
  allowPrivate?: boolean;
  /** The resolver behind the SSRF guard. Default: the system's (dns.lookup). */
  resolve?: Resolver;
  logger: FastifyBaseLogger;
  /** Delivery attempts. Default 3. */
  attempts?: number;
  /** First retry delay, doubling. Default 1000 ms. */
  backoffMs?: number;
  /** Per-attempt timeout. Default 10000 ms. */
  timeoutMs?: number;
}

export interface CallbackSender {
  /** Deliver in the background (retries included); never throws. */
  send(url: string, body: unknown): void;
  /** Wait for deliveries in flight, up to `deadlineMs`, then abandon them. */
  close(deadlineMs: number): Promise<void>;
}

/**
 * POSTs final task states to callback URLs. Delivery is best effort from the process that
 * finished the task: retried on network errors, 5xx and 429, not redirected, not persisted.
 */
export function createCallbackSender(opts: CallbackSenderOptions): CallbackSender {
  const attempts = opts.attempts ?? 3;
  const backoff = opts.backoffMs ?? 1000;
  const timeout = opts.timeoutMs ?? 10_000;
  const closing = new AbortController();
  // Every callback connection resolves through the SSRF guard: the address checked is the one used.
  const dispatcher = new Agent({
    connect: { lookup: guardedLookup(opts.allowPrivate ?? false, opts.resolve) },
  });
  const inFlight = new Set<Promise<void>>();

  const sleep = (ms: number) => delay(ms, undefined, { signal: closing.signal }).catch(() => undefined);

  async function deliver(url: string, body: string): Promise<void> {
    // Re-checked here: the worker process may run with a different allow-list than the submitter.
    if (!isAllowedHost(new URL(url), opts.allowedHosts)) {
      opts.logger.warn({ url }, 'task callback skipped: host not allowed in this process');
      return;
    }
    for (let i = 1; i <= attempts && !closing.signal.aborted; i++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'sutazai-task-callback' },
          body,
          redirect: 'manual',
          dispatcher,
          signal: AbortSignal.any([AbortSignal.timeout(timeout), closing.signal]),
        });
        await res.body?.cancel();
        if (res.status >= 200 && res.status < 300) return;
        if (res.status < 500 && res.status !== 429) {
          opts.logger.warn({ url, status: res.status }, 'task callback rejected; not retrying');
          return;
        }
        opts.logger.info({ url, status: res.status, attempt: i }, 'task callback failed');
      } catch (err) {
        const cause = (err as { cause?: unknown }).cause;
        if (cause instanceof PrivateAddressError) {
          opts.logger.warn({ url, address: cause.address }, 'task callback refused: private address');
          return;
        }
        opts.logger.info({ url, err: (err as Error).message, attempt: i }, 'task callback failed');
      }
      if (i < attempts) await sleep(backoff * 2 ** (i - 1));
    }
    opts.logger.warn({ url }, 'task callback gave up');
  }

  return {
    send(url, body) {
      const p = deliver(url, JSON.stringify(body)).finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    async close(deadlineMs) {
      if (inFlight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, deadlineMs);
        });
        await Promise.race([Promise.allSettled([...inFlight]), deadline]);
        clearTimeout(timer);
      }
      closing.abort();
      await Promise.allSettled([...inFlight]);
      await dispatcher.close();
    },
  };
}
