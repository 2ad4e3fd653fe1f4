// The machine a benchmark ran on, recorded with every result: absolute times on these shared
// machines drift, so each result file says how busy the machine was before and after the run.
import os from 'node:os';

/** Cores, CPU model, Node version, memory and the load average now (before the run). */
export function machineInfo() {
  return {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    node: process.version,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavgBefore: os.loadavg(),
  };
}

/** Records the load average after the run on `m` and returns the one-line summary to print. */
export function finishMachine(m) {
  m.loadavgAfter = os.loadavg();
  const la = (xs) => xs.map((l) => l.toFixed(2)).join(' ');
  return `machine: ${m.cpus} cpus, load avg before ${la(m.loadavgBefore)}, after ${la(m.loadavgAfter)}`;
}
