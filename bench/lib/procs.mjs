// Start the simulator, the gateway and a bare node:http server as child processes, so the load
// generator (this process) does not share an event loop with what it measures.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export async function freePort() {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

export async function waitHttp(url, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU pinning (`--pin` in the benchmarks; Linux, needs taskset): on a small machine the load
 * generator, the simulator and the process under test otherwise take CPU from each other, and
 * what a benchmark calls "added latency" is then mostly the run queue. pinCpus() puts this
 * process (the load generator) and the simulator on `load`, and every process under test (the
 * gateway, the bare proxy, the TCP relay, bare node) on `sut`, as if it had a machine of its own.
 * The direct baseline runs with the same client and simulator placement.
 */
const pinning = { load: undefined, sut: undefined };
export function pinCpus({ load = '0', sut = '1' } = {}) {
  pinning.load = load;
  pinning.sut = sut;
  pin(process.pid, load);
}

function pin(pid, cpus) {
  if (cpus === undefined) return;
  const r = spawnSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`taskset -cp ${cpus} ${pid} failed (is util-linux installed?)`);
}

export function spawnNode(args, env = {}, { role } = {}) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (role !== undefined) pin(child.pid, pinning[role]);
  return {
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await once(child, 'exit');
      clearTimeout(t);
    },
  };
}

/**
 * The simulator as a child process. `cli` is the command prefix (default: the built dist/ CLI;
 * `['--import', 'tsx', 'src/cli/main.ts']` runs from source).
 */
export async function startSim({ cli = [CLI], tps = 0, ttftMs = 0, extra = [], readyMs = 15000 } = {}) {
  const port = await freePort();
  const p = spawnNode(
    [
      ...cli,
      'sim',
      '--port',
      String(port),
      '--models',
      'tinyllama',
      '--tps',
      String(tps),
      '--ttft-ms',
      String(ttftMs),
      '--parallel',
      '1024',
      '--max-queue',
      '100000',
      ...extra,
    ],
    {},
    { role: 'load' },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/api/version`, readyMs);
  return { url, stop: p.stop, pid: p.child.pid };
}

/** The gateway as a child process in front of `upstream` (`KIND=URL`), with extra env. */
export async function startGateway(upstream, env = {}, { cli = [CLI], readyMs = 15000 } = {}) {
  const port = await freePort();
  const p = spawnNode(
    [...cli, 'serve', '--port', String(port), '--upstream', upstream],
    // The benchmark simulator runs 1024 generations at once (startSim): so may the gateway, so that
    // its admission queue (4 slots per upstream by default) is not what a proxy benchmark measures.
    { SUTAZAI_LOG_LEVEL: 'warn', SUTAZAI_UPSTREAM_SLOTS: '1024', ...env },
    { role: 'sut' },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/`, readyMs);
  return { url, stop: p.stop, pid: p.child.pid };
}

/** Bare node:http server answering every request with a fixed body (the baseline). */
export async function startBare(body) {
  const port = await freePort();
  const script = `
    const http = require('node:http');
    const body = Buffer.from(process.env.BODY);
    http.createServer((req, res) => {
      req.resume();
      req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length }); res.end(body); });
    }).listen(${port}, '127.0.0.1');`;
  const p = spawnNode(
    ['-e', script],
    { BODY: typeof body === 'string' ? body : JSON.stringify(body) },
    { role: 'sut' },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(url);
  return { url, stop: p.stop, pid: p.child.pid };
}

/** A process under test from a script in bench/lib/ that forwards to `upstream` (env UPSTREAM, PORT). */
async function startForwarder(file, upstream) {
  const port = await freePort();
  const script = fileURLToPath(new URL(file, import.meta.url));
  const p = spawnNode([script], { UPSTREAM: upstream, PORT: String(port) }, { role: 'sut' });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/api/version`);
  return { url, stop: p.stop, pid: p.child.pid };
}

/** A pass-through Node proxy in front of `upstream` (bench/lib/bare-proxy.mjs): the floor for any Node proxy. */
export const startBareProxy = (upstream) => startForwarder('./bare-proxy.mjs', upstream);

/** A TCP relay in front of `upstream` (bench/lib/tcp-relay.mjs): the floor for any process hop. */
export const startTcpRelay = (upstream) => startForwarder('./tcp-relay.mjs', upstream);

/** Fetch each of `paths` on `url`, then wait `everyMs`, until `stopped()`. Self-contained (see startPoller). */
async function pollLoop(url, paths, everyMs, stopped) {
  while (!stopped()) {
    for (const p of paths) {
      try {
        await (await fetch(url + p)).arrayBuffer();
      } catch {
        /* the gateway is saturated; the next round will do */
      }
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Poll `paths` on `url` every `everyMs` (as Prometheus and the dashboard would) until the returned
 * stop function is called; `everyMs` ≤ 0 polls nothing. `separate`: from a process of its own,
 * so the polling does not run in the caller's (e.g. the load generator's) event loop.
 */
export function startPoller(url, paths, everyMs, { separate = false } = {}) {
  if (!(everyMs > 0)) return async () => {};
  if (separate) {
    const args = [url, paths, everyMs].map((a) => JSON.stringify(a)).join(', ');
    const child = spawnNode([
      '-e',
      `let stop = false; process.on('SIGTERM', () => (stop = true)); (${pollLoop.toString()})(${args}, () => stop);`,
    ]);
    return () => child.stop();
  }
  let stop = false;
  const done = pollLoop(url, paths, everyMs, () => stop);
  return async () => {
    stop = true;
    await done;
  };
}

/** Child pids of `pid` (Linux /proc). */
export function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds of `pid` and its children (a `serve --processes N` primary and its workers). */
export function treeCpuSeconds(pid) {
  return childPids(pid).reduce((a, c) => a + treeCpuSeconds(c), cpuSeconds(pid));
}
