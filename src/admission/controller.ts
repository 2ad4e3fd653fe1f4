import { GatewayError } from '../errors/catalogue.js';
import type { CancelSignal } from '../pipeline/cancel.js';
import { ServiceEstimates } from './estimate.js';
import { FairLane, LANE_INDEX, LANES, type Lane } from './lanes.js';
import { Promises } from './reservations.js';

/** How admission bounds each model's wait queue (built from config by settingsFrom()). */
export interface AdmissionSettings {
  /** Longest expected wait a request may be queued for, by lane (ms); beyond it, 503 at once. */
  readonly timeoutMs: Readonly<Record<Lane, number>>;
  /** Most requests waiting per model, all lanes together. */
  readonly maxQueue: number;
  /** Share of a model's slots kept for interactive requests (0..1); at least one slot stays open to the other lanes. */
  readonly interactiveReserve: number;
  /** Gateway processes sharing the same upstreams: each uses 1/processes of the slots. */
  readonly processes: number;
  /** Service time assumed for a model until one has been measured (ms). */
  readonly priorServiceMs: number;
}

export type RejectReason = 'queue_full' | 'wait_bound' | 'timeout';

/** Events for metrics (src/admission/metrics.ts); all optional. */
export interface AdmissionObserver {
  granted?(model: string, lane: Lane, waitedMs: number): void;
  rejected?(model: string, lane: Lane, reason: RejectReason): void;
}

export interface AdmissionDeps {
  /** Concurrent generations the upstreams offer for a model, all processes together; 0 = not gated. */
  capacity(model: string): number;
  settings: AdmissionSettings;
  observer?: AdmissionObserver;
  now?: () => number;
}

/** A slot held for one generation. release() runs its effect once, however often it is called. */
export interface Ticket {
  /** Time spent queued for the slot (ms; 0 when it started at once). */
  readonly waitedMs: number;
  /** Give the slot back; `completed` = the generation ended normally (its duration feeds the service-time estimate). */
  release(completed: boolean): void;
}

export interface ModelAdmissionStats {
  model: string;
  /** Slots this process may use for the model. */
  slots: number;
  active: number;
  waiting: Record<Lane, number>;
  /** Estimated service time of one generation (ms). */
  serviceMs: number;
}

export interface Admission {
  /**
   * Ask for a slot: a Ticket when one is free now, a promise of one when the request is queued
   * (onQueued runs first), undefined when the model is not gated (no capacity known). Throws or
   * rejects with SUTAZAI_ERR_OVERLOADED (503 + Retry-After) when it cannot start within the bound,
   * and with the signal's reason when the client leaves while queued.
   */
  enter(
    model: string,
    lane: Lane,
    caller: string,
    signal: CancelSignal,
    onQueued?: () => void,
  ): Ticket | Promise<Ticket> | undefined;
  stats(): ModelAdmissionStats[];
  /** Expected wait (ms) for a new request of this lane, for tests and views. */
  expectedWaitMs(model: string, lane: Lane): number;
}

interface Waiter {
  readonly lane: number;
  readonly caller: string;
  readonly since: number;
  resolve(t: Ticket): void;
  reject(err: unknown): void;
  readonly signal: CancelSignal;
  timer: NodeJS.Timeout | undefined;
  onAbort: () => void;
}

class Gate {
  active = 0;
  /** Slots held by the batch and background lanes. */
  others = 0;
  waiting = 0;
  readonly lanes = [new FairLane<Waiter>(), new FairLane<Waiter>(), new FairLane<Waiter>()] as const;
  /** Per lane: when the clients it turned away were told to come back. */
  readonly promises = [new Promises(), new Promises(), new Promises()] as const;
  constructor(readonly model: string) {}
  waitersUpTo(li: number): number {
    let n = 0;
    for (let i = 0; i <= li; i++) n += this.lanes[i]?.size ?? 0;
    return n;
  }
}

const asError = (reason: unknown): Error =>
  reason instanceof Error ? reason : new DOMException('client disconnected', 'AbortError');

/**
 * Share of the bound an expected wait may fill: service times drift while a request waits (a busy
 * machine slows every answer at once), and a request admitted right at the bound would then wait
 * longer. bench/overload: without it, 51 of 300 answers waited 1-2 % over the bound.
 */
const HEADROOM = 0.9;

/** Shortest time a client is told to wait: Retry-After counts whole seconds. */
const MIN_RETRY_MS = 1000;

/**
 * The gateway's wait queue, one per model: requests start while the model has a free slot, else
 * wait in their lane (interactive, batch, background; round-robin between callers in a lane) as
 * long as their expected wait fits the bound; the rest are turned away at once with a Retry-After
 * computed from the measured service time and the queue ahead. Batch and background requests
 * never take the slots reserved for interactive ones.
 */
export function createAdmission(deps: AdmissionDeps): Admission {
  const { settings } = deps;
  const now = deps.now ?? (() => performance.now());
  const gates = new Map<string, Gate>();
  const estimates = new ServiceEstimates(settings.priorServiceMs);

  const slotsOf = (model: string): number => {
    const cap = deps.capacity(model);
    if (!(cap > 0)) return 0;
    return Math.max(1, Math.floor(cap / settings.processes));
  };
  /** Slots the batch and background lanes may hold together. */
  const othersLimit = (slots: number): number =>
    slots <= 1 ? slots : slots - Math.min(slots - 1, Math.ceil(slots * settings.interactiveReserve));
  const serviceMs = (model: string): number => estimates.meanMs(model);
  const slowServiceMs = (model: string): number => estimates.slowMs(model);
  const canStart = (g: Gate, li: number, slots: number): boolean =>
    g.active < slots && (li === 0 || g.others < othersLimit(slots));

  /**
   * Expected wait of a request that has `ahead` requests before it: they all start, then it does.
   * Taken with service times on the slow side, so that an admitted request rarely waits longer.
   */
  function waitFor(model: string, li: number, slots: number, ahead: number): number {
    const usable = li === 0 ? slots : othersLimit(slots);
    return ((ahead + 1) * slowServiceMs(model)) / Math.max(1, usable);
  }

  /** Service intervals per ms of a lane: its usable slots over the mean service time. */
  const spacingMs = (model: string, li: number, slots: number): number =>
    serviceMs(model) / Math.max(1, li === 0 ? slots : othersLimit(slots));

  function overloaded(g: Gate, li: 0 | 1 | 2, slots: number, reason: RejectReason): GatewayError {
    const lane = LANES[li] ?? 'interactive';
    deps.observer?.rejected?.(g.model, lane, reason);
    const ahead = g.waitersUpTo(li);
    const bound = settings.timeoutMs[lane];
    // The first time the real queue has a place for one more within the bound, and at least one
    // service interval after the last client told to come back (src/admission/reservations.ts).
    const t = now();
    const gap = spacingMs(g.model, li, slots);
    const fits = Math.max(1, Math.floor((bound * HEADROOM) / Math.max(1, gap)));
    const room = Math.max(0, ahead + 1 - fits);
    // Returns one service interval apart keep the queue as long as it is; closer together while
    // it is shorter than the bound allows, so it fills up again (a short queue runs dry when a
    // few clients do not come back).
    // Before any answer was timed the gap comes from the prior (1 s), likely too long: halve it.
    const fill = estimates.measured(g.model) ? (ahead + 1) / fits : 0;
    const spacing = gap * Math.min(1, Math.max(0.5, fill));
    const at = g.promises[li].promise(t + Math.max(MIN_RETRY_MS, room * gap), spacing);
    const retryAfter = Math.min(86_400, (at - t) / 1000);
    const why =
      reason === 'queue_full'
        ? `${g.waiting} requests are already waiting`
        : reason === 'timeout'
          ? `the request waited over ${(bound / 1000).toFixed(1)} s without a free slot`
          : `${ahead} requests are ahead and ${g.promises[li].size - 1} more were told to come back; the wait would exceed ${(bound / 1000).toFixed(1)} s`;
    return new GatewayError(
      'SUTAZAI_ERR_OVERLOADED',
      `model '${g.model}' is at capacity (${slots} concurrent generations): ${why}; retry in ${Math.ceil(retryAfter)} s`,
      { retryAfter },
    );
  }

  function grant(g: Gate, li: number, waitedMs: number): Ticket {
    g.active++;
    if (li > 0) g.others++;
    const grantedAt = now();
    let released = false;
    deps.observer?.granted?.(g.model, LANES[li] ?? 'interactive', waitedMs);
    return {
      waitedMs,
      release(completed) {
        if (released) return;
        released = true;
        g.active--;
        if (li > 0) g.others--;
        if (completed) estimates.measure(g.model, now() - grantedAt);
        dispatch(g);
      },
    };
  }

  function dispatch(g: Gate): void {
    const slots = slotsOf(g.model);
    for (let li = 0; li < g.lanes.length; li++) {
      const lane = g.lanes[li];
      if (lane === undefined) continue;
      while (lane.size > 0 && canStart(g, li, slots)) {
        const w = lane.shift();
        if (w === undefined) break;
        g.waiting--;
        settle(w);
        w.resolve(grant(g, li, now() - w.since));
      }
      // A lane that still waits holds back the lanes after it.
      if (lane.size > 0) break;
    }
    if (g.active === 0 && g.waiting === 0) gates.delete(g.model);
  }

  function settle(w: Waiter): void {
    if (w.timer !== undefined) clearTimeout(w.timer);
    w.signal.removeEventListener('abort', w.onAbort);
  }

  function enter(
    model: string,
    lane: Lane,
    caller: string,
    signal: CancelSignal,
    onQueued?: () => void,
  ): Ticket | Promise<Ticket> | undefined {
    const slots = slotsOf(model);
    if (slots === 0) return undefined;
    let g = gates.get(model);
    if (g === undefined) {
      g = new Gate(model);
      gates.set(model, g);
    }
    const li = LANE_INDEX[lane];
    if (canStart(g, li, slots) && g.waitersUpTo(li) === 0) return grant(g, li, 0);
    if (signal.aborted) {
      if (g.active === 0 && g.waiting === 0) gates.delete(model);
      throw asError(signal.reason);
    }
    const bound = settings.timeoutMs[lane];
    const ahead = g.waitersUpTo(li);
    const t = now();
    const promises = g.promises[li];
    // A client coming back when it was told to takes its place; one arriving unannounced goes
    // behind those who will be back before it would start.
    const returning = promises.claim(t);
    const expected = waitFor(model, li, slots, ahead);
    const reason: RejectReason | undefined =
      g.waiting >= settings.maxQueue
        ? 'queue_full'
        : returning
          ? expected > bound
            ? 'wait_bound'
            : undefined
          : waitFor(model, li, slots, ahead + promises.dueBy(t + expected)) > bound * HEADROOM
            ? 'wait_bound'
            : undefined;
    if (reason !== undefined) {
      const err = overloaded(g, li, slots, reason);
      if (g.active === 0 && g.waiting === 0) gates.delete(model);
      throw err;
    }
    const gate = g;
    return new Promise<Ticket>((resolve, reject) => {
      const w: Waiter = {
        lane: li,
        caller,
        since: now(),
        signal,
        resolve,
        reject,
        timer: undefined,
        onAbort: () => {
          if (!gate.lanes[li].remove(caller, w)) return;
          gate.waiting--;
          settle(w);
          reject(asError(signal.reason));
          dispatch(gate);
        },
      };
      // The bound is on the expected wait; one more service time of slack covers an estimate a
      // little short (a slower answer ahead) before the request is given up on.
      w.timer = setTimeout(
        () => {
          if (!gate.lanes[li].remove(caller, w)) return;
          gate.waiting--;
          settle(w);
          reject(overloaded(gate, li, slotsOf(model), 'timeout'));
          dispatch(gate);
        },
        bound + serviceMs(model),
      );
      signal.addEventListener('abort', w.onAbort, { once: true });
      gate.lanes[li].push(caller, w);
      gate.waiting++;
      onQueued?.();
    });
  }

  return {
    enter,
    stats() {
      return [...gates.values()].map((g) => ({
        model: g.model,
        slots: slotsOf(g.model),
        active: g.active,
        waiting: { interactive: g.lanes[0].size, batch: g.lanes[1].size, background: g.lanes[2].size },
        serviceMs: serviceMs(g.model),
      }));
    },
    expectedWaitMs(model, lane) {
      const slots = slotsOf(model);
      const g = gates.get(model);
      if (slots === 0) return 0;
      const li = LANE_INDEX[lane];
      if (g === undefined || (canStart(g, li, slots) && g.waitersUpTo(li) === 0)) return 0;
      return waitFor(model, li, slots, g.waitersUpTo(li));
    },
  };
}
