import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerState } from '../../src/upstreams/breaker.js';

describe('circuit breaker', () => {
  const make = (now: { t: number }) => {
    const changes: BreakerState[] = [];
    const b = new CircuitBreaker({ failures: 3, backoffMs: 100, maxBackoffMs: 400, now: () => now.t }, (s) =>
      changes.push(s),
    );
    return { b, changes };
  };

  it('opens after N counted failures in a row, at once on a certain one; a success resets the count', () => {
    const now = { t: 0 };
    const { b, changes } = make(now);
    b.failure('timeout', false);
    b.failure('timeout', false);
    b.success();
    b.failure('timeout', false);
    b.failure('timeout', false);
    expect(b.state).toBe('closed');
    b.failure('timeout', false);
    expect(b.state).toBe('open');
    expect(b.reason).toBe('timeout');
    const c = make(now);
    c.b.failure('connection refused', true);
    expect(c.b.state).toBe('open');
    expect(changes).toEqual(['open']);
  });

  it('open → half-open after the jittered backoff → closed on success, or open with the backoff doubled, capped', () => {
    const now = { t: 0 };
    const { b, changes } = make(now);
    b.failure('refused', true);
    const first = b.retryAt;
    expect(first).toBeGreaterThanOrEqual(80);
    expect(first).toBeLessThanOrEqual(120);
    expect(b.tryProbe()).toBe(false); // too early
    now.t = first;
    expect(b.tryProbe()).toBe(true);
    expect(b.state).toBe('half-open');
    expect(b.closed).toBe(false); // no traffic while the probe runs
    b.failure('still refused', true);
    const second = b.retryAt - now.t;
    expect(second).toBeGreaterThanOrEqual(160);
    expect(second).toBeLessThanOrEqual(240);
    for (let i = 0; i < 5; i++) {
      now.t = b.retryAt;
      b.tryProbe();
      b.failure('down', true);
    }
    expect(b.retryAt - now.t).toBeLessThanOrEqual(480); // 400 ± 20%
    expect(b.retryAfterS()).toBe(1);
    now.t = b.retryAt;
    b.tryProbe();
    b.success();
    expect(b.state).toBe('closed');
    expect(b.opened).toBe(7);
    expect(changes.at(-1)).toBe('closed');
    // A fresh opening starts from the base backoff again.
    b.failure('refused', true);
    expect(b.retryAt - now.t).toBeLessThanOrEqual(120);
  });
});
