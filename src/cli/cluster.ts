import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import pino from 'pino';
import { loadConfig, type Config, type ConfigSources } from '../config/config.js';
import { StartupError } from '../errors/startup.js';
import { isPeerMessage, type PeerMessage } from '../metrics/peers.js';

/**
 * `sutazai serve --processes N|auto`: a tiny primary (no Fastify, no pipeline) that forks N
 * workers sharing the port (node:cluster, round-robin accept in the primary), relays the peer
 * questions that make stats cover the whole server (src/metrics/peers.ts), and replaces a worker
 * that dies, with backoff. Each worker is a whole gateway (src/cli/serve.ts).
 */
export function resolveProcesses(p: Config['processes']): number {
  return p === 'auto' ? Math.max(1, os.availableParallelism()) : p;
}

/** What several processes cannot share is refused at start-up, naming the settings. */
export function checkClusterConfig(config: Pick<Config, 'databaseUrl' | 'processes'>, n: number): void {
  if (n > 1 && config.databaseUrl === undefined)
    throw new StartupError(
      'SUTAZAI_PROCESSES / --processes',
      String(config.processes),
      `${n} processes cannot share the embedded PGlite store (one process may open its data dir)`,
      'set DATABASE_URL to a PostgreSQL database (and REDIS_URL for one task queue and one L2 cache), or use --processes 1',
    );
}

/** Entry of `sutazai serve`: one process, a cluster worker, or the primary of N workers. */
export async function runServeCommand(
  argv: string[],
  sources: Omit<ConfigSources, 'argv'> = {},
): Promise<void> {
  if (cluster.isWorker) {
    await (await import('./serve.js')).runServeCli(argv, sources, { worker: true });
    return;
  }
  const config = loadConfig({ env: process.env, ...sources, argv });
  const n = resolveProcesses(config.processes);
  if (n <= 1) {
    await (await import('./serve.js')).runServeCli(argv, sources);
    return;
  }
  checkClusterConfig(config, n);
  await runPrimary(n, config);
}

const ASK_TIMEOUT_MS = 1500;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** A worker that lived this long before dying restarts without delay. */
const HEALTHY_LIFE_MS = 10_000;

interface Pending {
  from: Worker;
  waiting: Set<number>;
  values: unknown[];
  timer: NodeJS.Timeout;
}

function runPrimary(n: number, config: Config): Promise<void> {
  const log = pino({ level: config.logLevel, base: { svc: 'sutazai', role: 'primary', pid: process.pid } });
  const started = new Map<number, number>();
  const listening = new Set<number>();
  const pending = new Map<string, Pending>();
  let everListening = false;
  let failures = 0;
  let stopping = false;

  const send = (w: Worker, m: PeerMessage) => {
    if (w.isConnected()) w.send(m, undefined, () => undefined);
  };
  const finish = (id: string) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    clearTimeout(p.timer);
    send(p.from, { sutazai: 'peers', t: 'collected', id, values: p.values });
  };
  const onPeerMessage = (w: Worker, m: PeerMessage) => {
    if (m.t === 'collect') {
      const others = Object.values(cluster.workers ?? {}).filter(
        (o): o is Worker => o !== undefined && o.id !== w.id && listening.has(o.id) && o.isConnected(),
      );
      const timer = setTimeout(() => finish(m.id), ASK_TIMEOUT_MS);
      pending.set(m.id, { from: w, waiting: new Set(others.map((o) => o.id)), values: [], timer });
      for (const o of others)
        send(o, {
          sutazai: 'peers',
          t: 'ask',
          id: m.id,
          what: m.what,
          ...(m.arg !== undefined ? { arg: m.arg } : {}),
        });
      if (others.length === 0) finish(m.id);
    } else if (m.t === 'answer') {
      const p = pending.get(m.id);
      if (!p || !p.waiting.delete(w.id)) return;
      if (m.error === undefined) p.values.push(m.value);
      if (p.waiting.size === 0) finish(m.id);
    }
  };

  const fork = () => {
    // Each worker schedules its share of every model's slots (docs/admission.md): the workers here
    // times the gateway processes SUTAZAI_ADMISSION_PROCESSES already counts elsewhere.
    const w = cluster.fork({ SUTAZAI_ADMISSION_PROCESSES: String(n * config.admissionProcesses) });
    started.set(w.id, Date.now());
    w.on('message', (m: unknown) => {
      if (isPeerMessage(m)) onPeerMessage(w, m);
    });
    w.on('listening', () => {
      // Its peer link exists by now (made before it listens); earlier messages would be lost.
      send(w, { sutazai: 'peers', t: 'hello' });
      listening.add(w.id);
      if (!everListening && listening.size === n) log.info({ workers: n }, `all ${n} workers listening`);
      everListening ||= listening.size === n;
    });
  };

  return new Promise((resolve) => {
    cluster.on('exit', (w, code, signal) => {
      const lived = Date.now() - (started.get(w.id) ?? Date.now());
      started.delete(w.id);
      const wasListening = listening.delete(w.id);
      for (const [id, p] of pending) if (p.waiting.delete(w.id) && p.waiting.size === 0) finish(id);
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve();
        return;
      }
      if (!everListening && !wasListening) {
        // A worker that cannot start (port taken, bad database…) said why on stderr: stop all.
        log.error({ code, signal }, 'a worker failed to start; stopping');
        stopping = true;
        for (const o of Object.values(cluster.workers ?? {})) o?.kill('SIGKILL');
        process.exitCode = 2;
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve();
        return;
      }
      failures = lived >= HEALTHY_LIFE_MS ? 0 : failures + 1;
      const delay = failures === 0 ? 0 : Math.min(BACKOFF_MIN_MS * 2 ** (failures - 1), BACKOFF_MAX_MS);
      log.warn(
        { worker_pid: w.process.pid, code, signal, restart_in_ms: delay },
        'worker died; starting another',
      );
      setTimeout(() => {
        if (!stopping) fork();
      }, delay).unref();
    });

    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        log.info(`${sig} again: stopping workers now`);
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
        process.exit(1);
      }
      stopping = true;
      log.info(`${sig}: shutting down ${n} workers gracefully`);
      const workers = Object.values(cluster.workers ?? {});
      if (workers.length === 0) resolve();
      for (const w of workers)
        if (w?.isConnected()) w.send({ sutazai: 'shutdown' }, undefined, () => undefined);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    log.info({ workers: n }, `starting ${n} worker processes`);
    for (let i = 0; i < n; i++) fork();
  });
}
