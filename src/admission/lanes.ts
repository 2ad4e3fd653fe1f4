import type { Priority } from '../pipeline/types.js';

/** Priority lanes, served in this order: a lane waits while any lane before it has a waiter that may start. */
export type Lane = Priority;
export const LANES: readonly Lane[] = ['interactive', 'batch', 'background'];
export const LANE_INDEX: Readonly<Record<Lane, 0 | 1 | 2>> = { interactive: 0, batch: 1, background: 2 };

/**
 * One lane's waiters: first-in first-out per caller, callers served in turn (round-robin), so a
 * caller with a hundred requests waiting delays another caller's one request by at most one turn.
 */
export class FairLane<W> {
  private readonly byCaller = new Map<string, W[]>();
  /** Callers with at least one waiter, in the order their next turn comes. */
  private readonly turns: string[] = [];
  size = 0;

  push(caller: string, w: W): void {
    let q = this.byCaller.get(caller);
    if (q === undefined) {
      q = [];
      this.byCaller.set(caller, q);
      this.turns.push(caller);
    }
    q.push(w);
    this.size++;
  }

  /** The next waiter in turn, removed; the caller it belongs to goes to the back of the turns. */
  shift(): W | undefined {
    const caller = this.turns.shift();
    if (caller === undefined) return undefined;
    const q = this.byCaller.get(caller);
    const w = q?.shift();
    if (q !== undefined && q.length > 0) this.turns.push(caller);
    else this.byCaller.delete(caller);
    if (w !== undefined) this.size--;
    return w;
  }

  /** Take a waiter out of the lane (it gave up); false when it was not there. */
  remove(caller: string, w: W): boolean {
    const q = this.byCaller.get(caller);
    if (q === undefined) return false;
    const i = q.indexOf(w);
    if (i < 0) return false;
    q.splice(i, 1);
    this.size--;
    if (q.length === 0) {
      this.byCaller.delete(caller);
      const t = this.turns.indexOf(caller);
      if (t >= 0) this.turns.splice(t, 1);
    }
    return true;
  }

  /** Distinct callers waiting. */
  get callers(): number {
    return this.byCaller.size;
  }
}
