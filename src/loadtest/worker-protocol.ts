import type { EngineOptions, Tick } from './engine.js';
import type { PreconnectRaw } from './pool.js';
import type { RunOutput } from './runner.js';
import type { RunPlan } from './types.js';

/** Messages between the main thread and load-generating worker threads. */
export type ToWorker =
  | { type: 'prepare'; connections: number }
  | { type: 'run'; plan: RunPlan; originNs: bigint }
  | { type: 'stop' }
  | { type: 'close' };

export type FromWorker =
  | { type: 'prepared'; raw: PreconnectRaw }
  | { type: 'tick'; tick: Tick }
  | { type: 'done'; out: RunOutput }
  | { type: 'closed' }
  | { type: 'error'; message: string };

export interface WorkerInit {
  opts: EngineOptions;
}
