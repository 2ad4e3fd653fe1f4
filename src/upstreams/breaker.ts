/*
 * The circuit breaker of one upstream: closed (routed to) → open (ejected: no traffic, probed
 * after a backoff) → half-open (one probe in flight) → closed on success, open again with a doubled
 * backoff on failure. Passive observations (call outcomes) and active probes both feed it, so
 * /health, /api/v1/agents and routing read the same state the moment it changes.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive counted failures that open a closed circuit. Default 3. */
  failures?: number;
  /** First open period, ms; doubles on each failed probe. Default 250. */
  backoffMs?: number;
  /** Longest open period, ms. Default 1000. */
  maxBackoffMs?: number;
  /** Clock (tests); default Date.now. */
  now?: () => number;
}

export class CircuitBreaker {
  state: BreakerState = 'closed';
  /** Consecutive counted failures while closed. */
  failures = 0;
  /** When an open circuit may be probed (epoch ms). */
  retryAt = 0;
  /** Times the circuit opened (metrics). */
  opened = 0;
  /** Why it last opened. */
  reason: string | undefined = undefined;
  private backoff = 0;
  private readonly threshold: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;

  constructor(
    opts: BreakerOptions = {},
    /** Called on every change of state (the monitor schedules the recovery probe). */
    private readonly onChange: (state: BreakerState) => void = () => undefined,
  ) {
    this.threshold = opts.failures ?? 3;
    this.baseMs = opts.backoffMs ?? 250;
    this.maxMs = Math.max(opts.maxBackoffMs ?? 1000, this.baseMs);
    this.now = opts.now ?? Date.now;
  }

  /** Routing may send requests here. */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** A call or probe worked: the upstream answers. */
  success(): void {
    this.failures = 0;
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.backoff = 0;
    this.reason = undefined;
    this.onChange('closed');
  }

  /**
   * A call or probe failed. `certain` (connection refused, failed probe) opens at once; other
   * failures (timeouts, resets, 5xx) open after `failures` in a row.
   */
  failure(reason: string, certain: boolean): void {
    if (this.state === 'open') return;
    if (this.state === 'closed') {
      this.failures++;
      if (!certain && this.failures < this.threshold) return;
    }
    this.open(reason);
  }

  /** Open now is due for its probe: moves to half-open and returns true (the caller probes). */
  tryProbe(): boolean {
    if (this.state !== 'open' || this.now() < this.retryAt) return false;
    this.state = 'half-open';
    this.onChange('half-open');
    return true;
  }

  /** Seconds until an open circuit is probed again (at least 1), for Retry-After. */
  retryAfterS(): number {
    return Math.max(1, Math.ceil((this.retryAt - this.now()) / 1000));
  }

  private open(reason: string): void {
    // A failed half-open probe doubles the wait; a fresh opening starts from the base.
    this.backoff = this.state === 'half-open' ? Math.min(this.maxMs, this.backoff * 2) : this.baseMs;
    const jitter = 0.8 + Math.random() * 0.4; // ±20% so many gateways do not probe in step
    this.retryAt = this.now() + Math.round(this.backoff * jitter);
    this.state = 'open';
    this.reason = reason;
    this.opened++;
    this.failures = 0;
    this.onChange('open');
  }
}
