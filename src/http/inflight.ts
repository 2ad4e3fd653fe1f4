import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Told when the client went away (the connection closed) before the response finished. */
export interface CutOffWatcher {
  responseCutOff(res: ServerResponse): void;
}

const kWatchers = Symbol('sutazai.cutOffWatchers');
const kInflight = Symbol('sutazai.inflight');
const kSocket = Symbol('sutazai.socket');
// Node detaches the socket from the response as it finishes, before the onResponse hook runs.
type Res = ServerResponse & { [kWatchers]?: CutOffWatcher | CutOffWatcher[]; [kSocket]?: Sock };
type Sock = Socket & { [kInflight]?: Res | Res[] | null };

/*
 * Responses cut off before they finished, without a listener per request. A response either
 * finishes (the app's onResponse hook calls responseFinished) or its connection closes first: one
 * 'close' listener per connection (HTTP/1.1 answers one request at a time per connection, so
 * there is usually one response in flight on it) tells that response's watchers. A listener and a
 * closure per request per watcher (metrics, the request context) showed up as a few per cent of a
 * cached request's CPU.
 */

function socketClosed(this: Sock): void {
  const inflight = this[kInflight];
  this[kInflight] = null;
  if (!inflight) return;
  if (Array.isArray(inflight)) for (const res of inflight) cutOff(res);
  else cutOff(inflight);
}

function cutOff(res: Res): void {
  const w = res[kWatchers];
  if (w === undefined) return;
  res[kWatchers] = undefined;
  if (Array.isArray(w)) for (const x of w) x.responseCutOff(res);
  else w.responseCutOff(res);
}

function track(res: Res): boolean {
  // A pipelined request's response has no socket until the responses ahead of it have finished
  // (Node queues it); its request is on the same connection, and that closing cuts it off too.
  const sock: Sock | null = res.socket ?? res.req.socket;
  if (sock === null || sock.destroyed) return false;
  res[kSocket] = sock;
  const inflight = sock[kInflight];
  if (inflight === undefined) {
    sock.on('close', socketClosed);
    sock[kInflight] = res;
  } else if (!inflight || (!Array.isArray(inflight) && inflight.writableFinished)) {
    // (A finished response whose onResponse hook never ran is dropped here, not kept.)
    sock[kInflight] = res;
  } else if (Array.isArray(inflight)) {
    const open = inflight.filter((r) => !r.writableFinished && r !== res);
    open.push(res);
    sock[kInflight] = open.length === 1 ? res : open;
  } else if (inflight !== res) sock[kInflight] = [inflight, res];
  return true;
}

/**
 * Call `watcher.responseCutOff(res)` if the connection closes before `res` finishes. Returns false,
 * without watching, when the connection is already gone (the caller decides what that means).
 * Needs `responseFinished(res)` from the app's onResponse hook.
 */
export function watchCutOff(res: ServerResponse, watcher: CutOffWatcher): boolean {
  if (res.writableFinished || !track(res)) return false;
  const r = res as Res;
  const w = r[kWatchers];
  if (w === undefined) r[kWatchers] = watcher;
  else if (Array.isArray(w)) w.push(watcher);
  else r[kWatchers] = [w, watcher];
  return true;
}

/** `res` has finished: forget its watchers. Called for every response by the app's onResponse hook. */
export function responseFinished(res: ServerResponse): void {
  const r = res as Res;
  if (r[kWatchers] === undefined) return;
  r[kWatchers] = undefined;
  const sock = r[kSocket];
  const inflight = sock?.[kInflight];
  if (!sock || !inflight) return;
  if (inflight === r) sock[kInflight] = null;
  else if (Array.isArray(inflight)) {
    const i = inflight.indexOf(r);
    if (i >= 0) inflight.splice(i, 1);
  }
}
