import type { CallerKey } from '../pipeline/types.js';

/** Why a request was refused: which limit it would have broken. */
export type LimitReason = 'requests' | 'tokens' | 'concurrency';

/** A limiter's answer, with what the x-ratelimit-* headers need. */
export interface LimitDecision {
  ok: boolean;
  reason?: LimitReason;
  /** Requests left in the current window after this one (when an rpm limit is set). */
  remainingRequests: number;
  /** Tokens left (when a tpm limit is set). */
  remainingTokens: number;
  /** ms until the request / token window resets. */
  resetRequestsMs: number;
  resetTokensMs: number;
}

/**
 * Per-key counters: requests and tokens per minute (a one-minute window opened by the key's first
 * request in it) and requests in flight. `acquire` counts first and checks after (increment-first:
 * no check-then-act race); a refused request takes nothing back with it.
 */
export interface Limiter {
  acquire(keyId: string, limits: CallerKey, estimatedTokens: number): LimitDecision | Promise<LimitDecision>;
  /**
   * The request is over: correct the token reservation by `tokenDelta` (real − estimated) and, when
   * it held a concurrency slot, give it back.
   */
  finish(keyId: string, limits: CallerKey, tokenDelta: number): void;
  close(): Promise<void>;
}

export const WINDOW_MS = 60_000;
