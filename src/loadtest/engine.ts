import type { ExecContext } from './execute.js';
import { createPicker, createPrompts, createRng } from './mix.js';
import {
  connectStats,
  createConnections,
  preconnectRaw,
  type Connections,
  type PreconnectRaw,
} from './pool.js';
import type { ProtocolOptions } from './protocol.js';
import { healthRoute, routePath } from './protocol.js';
import { runPlan, type RunOutput } from './runner.js';
import type { ConnectStats, Mix, RunPlan } from './types.js';

/** Everything needed to generate load against one target (gateway or direct upstream). */
export interface EngineOptions {
  /** Base URL, may carry a path prefix. */
  url: string;
  protocol: Omit<ProtocolOptions, 'basePath'>;
  mix: Mix;
  repeatPool: number;
  headers: Record<string, string>;
  timeoutMs: number;
  thinkMs: number;
  thinkJitter: number;
  maxInflight: number;
  lateMs: number;
  taskPollMs: number;
  taskTimeoutMs: number;
  seed: number;
  /** Unique per invocation so fresh prompts never hit a cache filled by another run. */
  runId: string;
  /** Largest connection count any run will ask for (pool size). */
  maxConnections: number;
}

/** Progress numbers sent about once a second. */
export interface Tick {
  elapsedMs: number;
  /** Requests finished since the previous tick. */
  done: number;
  errors: number;
  /** Latencies of successful requests since the previous tick, ms. */
  latencies: Float64Array;
  inflight: number;
  queued: number;
}

export interface MeasuredRun extends RunOutput {
  connect: ConnectStats;
}

/** Runs plans; the local engine runs in this thread, a worker engine spreads a plan over threads. */
export interface Engine {
  run(
    plan: RunPlan,
    connections: number,
    onTick?: (t: Tick) => void,
    stopped?: () => boolean,
  ): Promise<MeasuredRun>;
  close(): Promise<void>;
}

export function splitUrl(url: string): { origin: string; basePath: string } {
  const u = new URL(url);
  return { origin: u.origin, basePath: u.pathname.replace(/\/+$/, '') };
}

/** The local engine split in two steps, so worker threads can pre-connect, then start together. */
export interface LocalEngine extends Engine {
  conns: Connections;
  prepare(connections: number): Promise<PreconnectRaw>;
  runPrepared(
    plan: RunPlan,
    opts: { originNs?: bigint; onTick?: (t: Tick) => void; stopped?: () => boolean },
  ): Promise<RunOutput>;
}

/** Runs in the current thread. */
export function createLocalEngine(opts: EngineOptions): LocalEngine {
  const { origin, basePath } = splitUrl(opts.url);
  const conns = createConnections(origin, {
    connections: Math.max(1, opts.maxConnections),
    timeoutMs: opts.timeoutMs,
  });
  const protocol: ProtocolOptions = { ...opts.protocol, basePath };
  const exec: ExecContext = {
    origin,
    protocol,
    headers: opts.headers,
    taskPollMs: opts.taskPollMs,
    taskTimeoutMs: opts.taskTimeoutMs,
  };
  const rng = createRng(opts.seed);
  const pick = createPicker(opts.mix, rng);
  const prompt = createPrompts({ repeatPool: opts.repeatPool, runId: opts.runId, rng });
  const healthPath = routePath(protocol, healthRoute(protocol.target));

  const engine: LocalEngine = {
    conns,
    prepare: (connections) => preconnectRaw(conns, connections, healthPath, opts.headers),
    runPrepared(plan, o) {
      let seen = 0;
      return runPlan(plan, {
        exec,
        conns,
        pick,
        prompt,
        rng,
        thinkMs: opts.thinkMs,
        thinkJitter: opts.thinkJitter,
        maxInflight: opts.maxInflight,
        lateMs: opts.lateMs,
        ...(o.originNs === undefined ? {} : { originNs: o.originNs }),
        ...(o.stopped === undefined ? {} : { stopped: o.stopped }),
        onTick: (v) => {
          const recent = v.recorder.recentOk(seen);
          seen = v.recorder.count;
          o.onTick?.({
            elapsedMs: v.elapsedMs,
            done: recent.total,
            errors: recent.errors,
            latencies: recent.latencies,
            inflight: v.inflight,
            queued: v.queued,
          });
        },
      });
    },
    async run(plan, connections, onTick, stopped) {
      const raw = await engine.prepare(connections);
      const out = await engine.runPrepared(plan, {
        ...(onTick === undefined ? {} : { onTick }),
        ...(stopped === undefined ? {} : { stopped }),
      });
      return { ...out, connect: connectStats([raw]) };
    },
    close: () => conns.close(),
  };
  return engine;
}
