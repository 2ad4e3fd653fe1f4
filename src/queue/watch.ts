import { GatewayError } from '../errors/catalogue.js';
import { FINAL_STATUSES } from '../store/types.js';
import type { QueueEngine } from './types.js';
import type { TaskView } from './view.js';

/** Re-read at least this often while waiting, in case a pub/sub event was lost (Redis reconnect). */
const RECHECK_MS = 2000;

/**
 * The task now, then each change of status or attempt count, ending after a final state. Events
 * only wake the reader; what it yields is always a fresh read, so it agrees with GET.
 */
export async function* watchTask(
  engine: QueueEngine,
  get: (id: string) => Promise<TaskView | undefined>,
  id: string,
  signal?: AbortSignal,
): AsyncGenerator<TaskView> {
  let woken = false;
  let wake: (() => void) | undefined;
  const off = engine.onEvent((ev) => {
    if (ev.id !== id) return;
    woken = true;
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    let last: string | undefined;
    for (;;) {
      woken = false;
      const view = await get(id);
      if (!view) {
        if (last === undefined) throw new GatewayError('SUTAZAI_ERR_NOT_FOUND', `task '${id}' not found`);
        return;
      }
      const key = `${view.status}/${view.attempts}`;
      if (key !== last) {
        last = key;
        yield view;
      }
      if (FINAL_STATUSES.has(view.status) || signal?.aborted) return;
      if (!woken) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, RECHECK_MS);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
      }
      if (signal?.aborted) return;
    }
  } finally {
    off();
    signal?.removeEventListener('abort', onAbort);
  }
}
