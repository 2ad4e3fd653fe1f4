import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../store/types.js';
import type { QueueEngine } from './types.js';

export interface ReconcilerOptions {
  engine: QueueEngine;
  store: Store;
  logger: FastifyBaseLogger;
  /** How often the queue is checked for lost data (ms). */
  intervalMs: number;
  /**
   * Tasks younger than this are left alone (ms, default 0). A submission still adding its job
   * races harmlessly: engines add a job id once.
   */
  settleMs?: number;
}

export interface Reconciler {
  /** Re-enqueue every task the store says is queued and the queue has no trace of; returns how many. */
  requeue(): Promise<number>;
  close(): void;
}

const BATCH = 5000;

/**
 * The SQL task record is the source of truth for what is queued (issue 23, finding 9). Redis
 * restarted without its data (or the in-process queue after a restart) forgets jobs that were
 * accepted; their records still say "queued", with the payload. This puts them back: once when
 * the store is first usable, and whenever the engine reports its data lost. A job id is added to
 * the queue once, so two processes doing this at the same time do not double a task.
 */
export function startReconciler(opts: ReconcilerOptions): Reconciler {
  const { engine, store, logger } = opts;
  const settleMs = opts.settleMs ?? 0;
  let first = true;
  let running: Promise<unknown> | undefined;
  let closed = false;
  // A lazily opened embedded store is not opened just for this: it is checked once it is open.
  const storeReady = () => store.shared || !('opened' in store) || (store as { opened: boolean }).opened;

  async function requeue(): Promise<number> {
    const queued = await store.tasks.listQueued(Date.now() + 1 - settleMs, BATCH);
    let added = 0;
    for (const t of queued) {
      if (closed) break;
      if (await engine.get(t.id)) continue;
      // Finished or cancelled since the list was read: engines write the final state to SQL
      // before the job leaves the queue, so a job gone from the queue is final here by now.
      if ((await store.tasks.get(t.id))?.status !== 'queued') continue;
      await engine.add({ ...t, requeued: true });
      added++;
    }
    if (added > 0)
      logger.warn({ requeued: added }, 'tasks recorded as queued were missing from the queue: re-enqueued');
    return added;
  }

  async function tick(): Promise<void> {
    if (first) {
      if (!storeReady()) return;
      first = false;
      await engine.dataLost?.(); // the loss, if any, is covered by this first pass
      await requeue();
      return;
    }
    if (await engine.dataLost?.()) await requeue();
  }

  const run = () => {
    if (running || closed) return;
    running = tick()
      .catch((err: unknown) => logger.warn({ err }, 'could not reconcile the task queue with the store'))
      .finally(() => (running = undefined));
  };
  const timer = setInterval(run, opts.intervalMs);
  timer.unref();
  run();
  return {
    requeue,
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
