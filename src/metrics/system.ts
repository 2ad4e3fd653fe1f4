import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface SystemSnapshot {
  /** Process CPU over the last sample interval, % of one core (can exceed 100 with threads). */
  cpuPercent: number;
  /** Host CPU busy % over the last interval (all cores). */
  hostCpuPercent: number;
  memory: {
    rssBytes: number;
    heapUsedBytes: number;
    heapTotalBytes: number;
    hostTotalBytes: number;
    hostFreeBytes: number;
    percent: number;
  };
  eventLoop: { lagP50Ms: number; lagP99Ms: number; lagMaxMs: number; utilization: number };
  loadAverage: number[];
  uptimeS: number;
  cores: number;
}

export interface SystemSampler {
  snapshot(): SystemSnapshot;
  close(): void;
}

function hostTimes() {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

/**
 * Samples CPU, memory and event-loop health on a timer, so reading them never blocks
 * (the seed called psutil.cpu_percent(0.1) inside request handlers).
 */
export function createSystemSampler(intervalMs = 1000): SystemSampler {
  const started = Date.now();
  // Each sample is a timer wake-up (about two loop turns): at 10 ms, Node's default, an idle
  // gateway woke ~200 times a second for this alone (strace); 20 ms halves that. Lag under 20 ms
  // still shows: a sample records how late its timer fired.
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  let lastHost = hostTimes();
  let lastElu = performance.eventLoopUtilization();
  let current = build(0, 0, 0);

  function build(cpuPercent: number, hostCpuPercent: number, utilization: number): SystemSnapshot {
    const mem = process.memoryUsage();
    const total = os.totalmem();
    return {
      cpuPercent,
      hostCpuPercent,
      memory: {
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        heapTotalBytes: mem.heapTotal,
        hostTotalBytes: total,
        hostFreeBytes: os.freemem(),
        percent: Math.round(((total - os.freemem()) / total) * 1000) / 10,
      },
      eventLoop: {
        lagP50Ms: ns(lag.percentile(50)),
        lagP99Ms: ns(lag.percentile(99)),
        lagMaxMs: ns(lag.max),
        utilization: Math.round(utilization * 1000) / 1000,
      },
      loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
      uptimeS: Math.round((Date.now() - started) / 1000),
      cores: os.availableParallelism(),
    };
  }

  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const elapsedUs = (now - lastAt) * 1000;
    const host = hostTimes();
    const dTotal = host.total - lastHost.total;
    const hostBusy = dTotal > 0 ? (1 - (host.idle - lastHost.idle) / dTotal) * 100 : 0;
    const elu = performance.eventLoopUtilization(lastElu);
    current = build(
      Math.round(((cpu.user + cpu.system) / elapsedUs) * 1000) / 10,
      Math.round(hostBusy * 10) / 10,
      elu.utilization,
    );
    lastCpu = process.cpuUsage();
    lastAt = now;
    lastHost = host;
    lastElu = performance.eventLoopUtilization();
    lag.reset();
  }, intervalMs);
  timer.unref();

  return {
    snapshot: () => ({ ...current, uptimeS: Math.round((Date.now() - started) / 1000) }),
    close() {
      clearInterval(timer);
      lag.disable();
    },
  };
}

function ns(v: number): number {
  return Number.isFinite(v) ? Math.round(v / 1e4) / 100 : 0;
}
