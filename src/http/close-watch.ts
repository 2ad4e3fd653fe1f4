import type { ServerResponse } from 'node:http';

/** Told once when a response closes: finished, or cut off (`res.writableFinished` says which). */
export interface CloseWatcher {
  responseClosed(res: ServerResponse): void;
}

const kWatchers = Symbol('sutazai.closeWatchers');
type Watched = ServerResponse & { [kWatchers]?: CloseWatcher | CloseWatcher[] };

// One shared listener per response whoever watches it (metrics, the request context): a closure or
// a `once` wrapper per watcher per request showed up as a few per cent of a cached request's CPU.
function dispatch(this: Watched): void {
  const w = this[kWatchers];
  if (w === undefined) return;
  this[kWatchers] = undefined;
  if (Array.isArray(w)) for (const x of w) x.responseClosed(this);
  else w.responseClosed(this);
}

/**
 * Call `watcher.responseClosed(res)` when `res` closes ('close' fires exactly once per response).
 * Returns false, without watching, if the response has already closed.
 */
export function watchClose(res: ServerResponse, watcher: CloseWatcher): boolean {
  if (res.closed) return false;
  const r = res as Watched;
  const w = r[kWatchers];
  if (w === undefined) {
    r[kWatchers] = watcher;
    res.on('close', dispatch);
  } else if (Array.isArray(w)) w.push(watcher);
  else r[kWatchers] = [w, watcher];
  return true;
}
