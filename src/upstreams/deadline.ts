/*
 * An AbortSignal that fires when `parent` aborts or after `ms`. `AbortSignal.any([parent,
 * AbortSignal.timeout(ms)])` is not safe on Node 20: the timeout signal is held only weakly, and
 * once collected it never fires (seen here: a probe of a silent upstream hung for ever). This
 * keeps the timer and the controller strongly referenced until `clear()`.
 */
export interface Deadline {
  signal: AbortSignal;
  /** Stops the timer and detaches from the parent (call when the guarded work is done). */
  clear(): void;
}

export function deadline(parent: AbortSignal, ms: number): Deadline {
  const ac = new AbortController();
  const onParent = (): void => ac.abort(parent.reason);
  const timer = setTimeout(() => ac.abort(new DOMException('The operation timed out.', 'TimeoutError')), ms);
  timer.unref();
  if (parent.aborted) ac.abort(parent.reason);
  else parent.addEventListener('abort', onParent, { once: true });
  return {
    signal: ac.signal,
    clear() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParent);
    },
  };
}
