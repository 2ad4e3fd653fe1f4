import { parentPort, workerData } from 'node:worker_threads';
import { createLocalEngine } from './engine.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

/** Worker-thread side of --workers: one local engine driven by messages from the main thread. */
const port = parentPort;
if (port === null) throw new Error('worker-entry must run in a worker thread');
const { opts } = workerData as WorkerInit;
const engine = createLocalEngine(opts);
let stopped = false;
const post = (m: FromWorker): void => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  const fail = (err: unknown): void =>
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  if (m.type === 'prepare') {
    engine.prepare(m.connections).then((raw) => post({ type: 'prepared', raw }), fail);
  } else if (m.type === 'run') {
    stopped = false;
    engine
      .runPrepared(m.plan, {
        originNs: m.originNs,
        onTick: (tick) => post({ type: 'tick', tick }),
        stopped: () => stopped,
      })
      .then((out) => {
        const r = out.recording;
        const buffers = [
          r.start,
          r.latency,
          r.kind,
          r.outcome,
          r.status,
          r.tokens,
          r.ttft,
          r.gapStart,
          r.gap,
        ].map((a) => a.buffer as ArrayBuffer);
        port.postMessage({ type: 'done', out } satisfies FromWorker, buffers);
      }, fail);
  } else if (m.type === 'stop') {
    stopped = true;
  } else {
    engine.close().then(() => {
      post({ type: 'closed' });
      port.close();
    }, fail);
  }
});
