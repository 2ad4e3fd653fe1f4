/** Generation slots (like OLLAMA_NUM_PARALLEL) with a bounded FIFO wait queue (OLLAMA_MAX_QUEUE). */

export interface SlotWaiter {
  readonly onGrant: () => void;
  cancelled: boolean;
}

export interface Slots {
  readonly active: number;
  readonly queued: number;
  /** `true` = a slot was taken now; a waiter = queued (onGrant runs later); `null` = queue full. */
  acquire(onGrant: () => void): true | SlotWaiter | null;
  /** Leave the queue (client went away while waiting). */
  cancel(waiter: SlotWaiter): void;
  /** Give a slot back; the oldest waiter gets it on the next turn of the event loop. */
  release(): void;
}

export function createSlots(parallel: number, maxQueue: number): Slots {
  let active = 0;
  let queued = 0;
  const queue: SlotWaiter[] = [];
  return {
    get active() {
      return active;
    },
    get queued() {
      return queued;
    },
    acquire(onGrant) {
      if (active < parallel && queued === 0) {
        active++;
        return true;
      }
      if (queued + 1 > maxQueue) return null;
      const waiter: SlotWaiter = { onGrant, cancelled: false };
      queue.push(waiter);
      queued++;
      return waiter;
    },
    cancel(waiter) {
      if (waiter.cancelled) return;
      waiter.cancelled = true;
      queued--;
    },
    release() {
      active--;
      while (active < parallel && queue.length > 0) {
        const next = queue.shift();
        if (next === undefined || next.cancelled) continue;
        next.cancelled = true; // no longer cancellable: it owns a slot now
        queued--;
        active++;
        // setImmediate: no recursion when many zero-latency requests complete in a row.
        setImmediate(next.onGrant);
      }
    },
  };
}
