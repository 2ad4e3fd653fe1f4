/** How late a client told to come back at T may be and still find its place (ms). */
const LATE_MS = 2000;
/** How early (clock and rounding slack, ms). */
const EARLY_MS = 50;
/** Promised returns kept per lane at most (beyond, later clients are told the same last time). */
const MAX_PROMISES = 100_000;

/**
 * The clients a lane turned away, as the times they were told to come back: a virtual queue
 * behind the real one. Each new one is told the first time, one service interval after the last
 * promise, at which the real queue will have a place for it; whoever arrives at a promised time
 * takes that place (the gateway cannot tell clients apart, and need not: one place per promise).
 * Requests that arrive unannounced go behind the promises. So a client that honours Retry-After
 * gets through on its return, clients come back spread one service interval apart instead of in
 * bursts, and the places that free up do not all go to whoever asks again at once (a closed-loop
 * client just answered).
 */
export class Promises {
  private readonly times: number[] = [];

  private prune(t: number): void {
    let n = 0;
    while (n < this.times.length && (this.times[n] ?? 0) < t - LATE_MS) n++;
    if (n > 0) this.times.splice(0, n);
  }

  /** A client arriving at `t` takes a promise that is due (true), if there is one. */
  claim(t: number): boolean {
    this.prune(t);
    const first = this.times[0];
    if (first === undefined || first > t + EARLY_MS) return false;
    this.times.shift();
    return true;
  }

  /** Promises due by `until`: clients who will want a place before then. */
  dueBy(until: number): number {
    let n = 0;
    while (n < this.times.length && (this.times[n] ?? 0) <= until) n++;
    return n;
  }

  /**
   * Promise a place at the first time from `earliest` that is at least `spacingMs` after the last
   * promise, and return it.
   */
  promise(earliest: number, spacingMs: number): number {
    const last = this.times.at(-1);
    const at = last === undefined ? earliest : Math.max(earliest, last + spacingMs);
    if (this.times.length < MAX_PROMISES) this.times.push(at);
    return at;
  }

  get size(): number {
    return this.times.length;
  }
}
