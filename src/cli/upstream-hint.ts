import type { HealthMonitor, UpstreamStatus } from '../upstreams/health-monitor.js';

export interface HintLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * Tells a newcomer at once when no model server answers: the upstreams tried and the ways forward,
 * at warn level, as soon as the first probe fails (connection refused: well under a second).
 * While they stay down the warning repeats at most every `repeatMs`; when one answers, one info line.
 */
export function watchUpstreams(opts: {
  health: HealthMonitor;
  log: HintLogger;
  /** How often the monitor's snapshot is looked at. Default 1000 ms. */
  checkMs?: number;
  /** Minimum gap between two warnings while nothing answers. Default 5 min. */
  repeatMs?: number;
}): { close(): void } {
  const { health, log } = opts;
  const repeatMs = opts.repeatMs ?? 300_000;
  let warnedAt: number | undefined;
  let closed = false;

  const report = (list: readonly UpstreamStatus[]) => {
    if (closed) return;
    const down = list.filter((u) => u.status === 'unhealthy');
    if (list.length > 0 && down.length === list.length) {
      if (warnedAt !== undefined && Date.now() - warnedAt < repeatMs) return;
      const tried = down.map((u) => `${u.url} (${u.kind})`).join(', ');
      log.warn(
        { upstreams: down.map((u) => ({ id: u.id, url: u.url, error: u.error })) },
        `${warnedAt === undefined ? 'no model server answers' : 'still no model server'} at ${tried} — ` +
          'start Ollama (ollama serve), point the gateway at your server with --upstream ollama=URL or ' +
          '--upstream openai=URL/v1 (SUTAZAI_UPSTREAMS), or try the built-in simulator: npm run demo',
      );
      warnedAt = Date.now();
    } else if (warnedAt !== undefined) {
      const up = list.filter((u) => u.status !== 'unhealthy').map((u) => u.url);
      log.info({ upstreams: up }, `model server answers now at ${up.join(', ')}`);
      warnedAt = undefined;
    }
  };

  // A fresh probe right away rather than the monitor's first one, whose result may still be pending.
  void health.refresh().then(report, () => undefined);
  const timer = setInterval(() => report(health.upstreams()), opts.checkMs ?? 1000);
  timer.unref();
  return {
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
