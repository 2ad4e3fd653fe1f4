import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { LoadtestConfig } from './config.js';
import {
  commitOf,
  contextLine,
  load1,
  renderProcessRounds,
  simArgs,
  upstreamLine,
  type ProcessRound,
  type StepContext,
} from './bench-context.js';
import { machineInfo, type Report } from './report.js';
import type { CliIo } from './types.js';

/**
 * `sutazai loadtest report`: regenerates docs/performance.md in one command (npm run bench:report).
 * It starts the simulator and the gateway as child processes through the public CLI (`sutazai sim`,
 * `sutazai serve`) plus a bare node:http server, runs each step below through the load tester
 * itself, and writes every figure from the JSON reports. SKELETON: the steps and the document
 * layout are fixed; the numbers are produced only when the gateway is complete (run it then).
 */
export interface BenchEnv {
  gatewayUrl: string;
  /** The same gateway with `--processes 2` (empty when it could not start). */
  gateway2Url?: string;
  simUrl: string;
  bareUrl: string;
}

export interface BenchStep {
  id: string;
  title: string;
  argv(env: BenchEnv): string[];
}

export const BENCH_STEPS: readonly BenchStep[] = [
  {
    id: 'progressive-cache',
    title: "Seed's table: progressive 5→1000 users, cache-hit heavy mix",
    argv: (e) => [
      'progressive',
      '--url',
      e.gatewayUrl,
      '--mix',
      'repeat=80,fresh=5,stream=5,health=10',
      '--stage-duration',
      '30s',
    ],
  },
  {
    id: 'spike',
    title: 'Spike 10→500→10 users',
    argv: (e) => ['spike', '--url', e.gatewayUrl],
  },
  {
    id: 'endurance',
    title: 'Endurance, 100 users for 5 minutes',
    argv: (e) => ['endurance', '--url', e.gatewayUrl, '--users', '100', '--duration', '5m'],
  },
  {
    id: 'overhead-chat',
    title: 'Gateway vs direct upstream, non-streaming chat, fresh prompts',
    argv: (e) => ['overhead', '--url', e.gatewayUrl, '--direct', e.simUrl, '--direct-target', 'ollama'],
  },
  {
    id: 'health-vs-bare',
    title: 'GET /health: gateway vs bare node:http at 1000 connections',
    argv: (e) => [
      'overhead',
      '--url',
      e.gatewayUrl,
      '--direct',
      e.bareUrl,
      '--direct-target',
      'sutazai',
      '--mix',
      'health=100',
      '--concurrency',
      '1000',
      '--no-slo',
    ],
  },
  {
    id: 'cache-throughput',
    title: 'Cache-hit throughput (repeated prompts, no think time)',
    argv: (e) => [
      'progressive',
      '--url',
      e.gatewayUrl,
      '--mix',
      'repeat=100',
      '--think',
      '0',
      '--stages',
      '64,256',
      '--no-slo',
    ],
  },
  {
    id: 'tasks',
    title: 'Task throughput (submit and poll)',
    argv: (e) => [
      'progressive',
      '--url',
      e.gatewayUrl,
      '--mix',
      'task=100',
      '--think',
      '0',
      '--stages',
      '16,64',
      '--no-slo',
    ],
  },
];

/** Cache hits at 1000 connections, run alternately on 1 and 2 gateway processes. */
export const PROCESS_ROUNDS = 3;
export const processStepArgv = (url: string): string[] => [
  'progressive',
  '--url',
  url,
  '--mix',
  'repeat=100',
  '--think',
  '0',
  '--stages',
  '1000',
  '--stage-duration',
  '10s',
  '--no-slo',
  '--model',
  'sim',
];

/** The simulator serves this model; every step asks for it (the gateway's default may differ). */
const SIM_MODEL = 'sim';
const PLACEHOLDERS: BenchEnv = { gatewayUrl: 'GW', simUrl: 'SIM', bareUrl: 'BARE' };

export function stepArgv(step: BenchStep, env: BenchEnv): string[] {
  return [...step.argv(env), '--model', SIM_MODEL];
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** The bare baseline: a node:http server answering /health like the cheapest possible gateway. */
async function startBare(): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"healthy"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Start `sutazai <args>` with the same runtime as this process and wait until `url` answers. */
async function startCli(args: string[], readyUrl: string): Promise<ChildProcess> {
  const main = process.argv[1] ?? 'dist/cli/main.js';
  const child = spawn(process.execPath, [...process.execArgv, main, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    try {
      const res = await request(readyUrl);
      await res.body.dump();
      return child;
    } catch {
      await sleep(100);
    }
  }
  child.kill('SIGTERM');
  throw new Error(`sutazai ${args.join(' ')} did not answer at ${readyUrl}`);
}

function f(v: number | undefined, digits = 0): string {
  return v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/** docs/performance.md from the step reports (missing steps are listed as not run). */
export function renderPerformanceMd(
  reports: Map<string, Report>,
  machine: Record<string, unknown>,
  run: { commit?: string; contexts?: Map<string, StepContext>; processRounds?: ProcessRound[] } = {},
): string {
  const commit = run.commit ?? 'unknown';
  const out = [
    '# Performance',
    '',
    `Generated by \`npm run bench:report\` (\`sutazai loadtest report\`) on commit ${commit}. Do not edit by hand.`,
    '',
    'Every table says which commit, upstream and gateway it measured and how busy the machine was',
    '(1-minute load average before and after). Absolute figures drift on shared machines; compare',
    'figures taken in the same run. Paired CPU-per-request benchmarks are in `bench/` (see',
    '`bench/README.md`).',
    '',
  ];
  out.push('## Machine and load', '', '```', JSON.stringify(machine, null, 2), '```', '');
  for (const step of BENCH_STEPS) {
    const r = reports.get(step.id);
    out.push(
      `## ${step.title}`,
      '',
      `Command: \`sutazai loadtest ${stepArgv(step, PLACEHOLDERS).join(' ')}\``,
      '',
      contextLine(run.contexts?.get(step.id), commit),
      '',
      upstreamLine(),
      '',
    );
    if (r === undefined) {
      out.push('_Not run yet._', '');
      continue;
    }
    out.push(
      '| stage | requests | ok/s | p50 ms | p95 ms | p99 ms | errors % | SLO |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const s of r.stages) {
      const l = s.stats.latency;
      out.push(
        `| ${s.name} | ${s.stats.requests} | ${f(s.stats.okRps)} | ${f(l.p50, 1)} | ${f(l.p95, 1)} | ${f(l.p99, 1)} | ${f(s.stats.errorRatePct, 2)} | ${s.slo === undefined ? '' : s.slo.pass ? 'pass' : 'FAIL'} |`,
      );
    }
    out.push(...serverComparison(r), '');
  }
  out.push(
    '## Cache hits at 1000 connections: 1 vs 2 gateway processes',
    '',
    `Command, alternately against \`sutazai serve\` and \`sutazai serve --processes 2\`, ${PROCESS_ROUNDS} rounds: \`sutazai loadtest ${processStepArgv('GW').join(' ')}\``,
    '',
    contextLine(run.contexts?.get('processes'), commit),
    '',
    upstreamLine(),
    '',
    ...(run.processRounds === undefined ? ['_Not run yet._', ''] : renderProcessRounds(run.processRounds, f)),
  );
  return out.join('\n');
}

type Figures = { p50_ms?: number | null; p95_ms?: number | null; p99_ms?: number | null; requests?: number };

/** The server's own last-10 s traffic figures from its metrics API payload, if it has that shape. */
function serverWindow(payload: unknown): Figures | undefined {
  const traffic = (payload as { traffic?: { windows?: Record<string, Figures> } } | undefined)?.traffic;
  return traffic?.windows?.['10s'];
}

/**
 * The gateway's own percentiles (its metrics API, last 10 s, read right after the last stage) next
 * to the load tester's for that stage. The server times from the moment Fastify sees a request to
 * the end of its response and leaves monitoring routes (/health) out; time spent queued in the
 * kernel and the event loop before that, which grows under saturation, only the client sees.
 */
function serverComparison(r: Report): string[] {
  const server = (r as Partial<Report>).server;
  const w = serverWindow(server?.last);
  // Overhead runs alternate gateway and direct stages: compare a stage that hit the gateway.
  const last = [...r.stages].reverse().find((s) => s.name.startsWith('gateway')) ?? r.stages.at(-1);
  if (w === undefined || last === undefined) return [];
  const l = last.stats.latency;
  const n = (v: number | null | undefined) => (typeof v === 'number' ? f(v, 1) : 'n/a');
  return [
    '',
    `Same run, stage ${last.name}, as measured by the load tester vs as reported by the gateway itself (GET ${server?.path ?? '/api/v1/metrics'}, last 10 s window). The gateway times a request from when it reaches the HTTP framework; time queued before that (kernel, busy event loop) only the client sees, so under saturation the gap is that queueing.`,
    '',
    '| measured by | p50 ms | p95 ms | p99 ms |',
    '|---|---|---|---|',
    `| load tester (client side) | ${f(l.p50, 1)} | ${f(l.p95, 1)} | ${f(l.p99, 1)} |`,
    `| gateway metrics API (server side) | ${n(w.p50_ms)} | ${n(w.p95_ms)} | ${n(w.p99_ms)} |`,
  ];
}

/** Runs one step's `sutazai loadtest` argv (cli.ts passes its own entry point: no import cycle). */
export type RunStep = (argv: string[], io: CliIo) => Promise<number>;

export async function runBenchReport(cfg: LoadtestConfig, io: CliIo, runStep: RunStep): Promise<number> {
  if (cfg.dryRun) {
    io.stdout.write('bench report plan (sim on a free port, gateway in front of it, bare node:http):\n');
    for (const s of BENCH_STEPS) {
      io.stdout.write(`  ${s.id}: sutazai loadtest ${stepArgv(s, PLACEHOLDERS).join(' ')}\n`);
    }
    io.stdout.write(
      `  processes (${PROCESS_ROUNDS} rounds, 1 process then --processes 2, alternating): sutazai loadtest ${processStepArgv('GW').join(' ')}\n`,
    );
    io.stdout.write(`would write ${cfg.out}\n`);
    return 0;
  }
  const [simPort, gwPort, gw2Port] = [await freePort(), await freePort(), await freePort()];
  const commit = commitOf();
  const contexts = new Map<string, StepContext>();
  const processRounds: ProcessRound[] = [];
  const env: BenchEnv = {
    simUrl: `http://127.0.0.1:${simPort}`,
    gatewayUrl: `http://127.0.0.1:${gwPort}`,
    bareUrl: '',
  };
  const bare = await startBare();
  env.bareUrl = bare.url;
  const children: ChildProcess[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'sutazai-bench-'));
  const reports = new Map<string, Report>();
  try {
    children.push(
      await startCli(['sim', '--port', String(simPort), ...simArgs(SIM_MODEL)], `${env.simUrl}/api/version`),
    );
    children.push(
      await startCli(
        ['serve', '--port', String(gwPort), '--upstream', `ollama=${env.simUrl}`],
        `${env.gatewayUrl}/health`,
      ),
    );
    const target = 'gateway `sutazai serve`, 1 process, default settings (cache on, metrics on)';
    for (const step of BENCH_STEPS) {
      const file = join(dir, `${step.id}.json`);
      io.stderr.write(`bench: ${step.title}\n`);
      const loadBefore = load1();
      await runStep([...stepArgv(step, env), '--json', file, '--quiet'], io);
      contexts.set(step.id, { loadBefore, loadAfter: load1(), target });
      reports.set(step.id, JSON.parse(await readFile(file, 'utf8')) as Report);
    }
    // 1 vs 2 processes. `--processes 2` needs DATABASE_URL, taken from this command's environment.
    const gw2Url = `http://127.0.0.1:${gw2Port}`;
    const gw2 = await startCli(
      ['serve', '--port', String(gw2Port), '--processes', '2', '--upstream', `ollama=${env.simUrl}`],
      `${gw2Url}/health`,
    ).catch(() => undefined);
    if (gw2 !== undefined) {
      children.push(gw2);
      io.stderr.write('bench: cache hits at 1000 connections, 1 vs 2 processes\n');
      const loadBefore = load1();
      const once = async (url: string, name: string): Promise<Report> => {
        const file = join(dir, `${name}.json`);
        await runStep([...processStepArgv(url), '--json', file, '--quiet'], io);
        return JSON.parse(await readFile(file, 'utf8')) as Report;
      };
      // The 2-process gateway is fresh: each worker's JIT warms up on its own. One unrecorded
      // run first (the first such round measured 0.09x of the warm single process).
      await once(gw2Url, 'warm-up');
      for (let i = 0; i < PROCESS_ROUNDS; i++) {
        // Alternate which side goes first, so drift in the machine's load cancels.
        const first = i % 2 === 0;
        const a = await once(first ? env.gatewayUrl : gw2Url, `p${i}a`);
        const b = await once(first ? gw2Url : env.gatewayUrl, `p${i}b`);
        processRounds.push(first ? { one: a, two: b } : { one: b, two: a });
      }
      contexts.set('processes', {
        loadBefore,
        loadAfter: load1(),
        target: 'gateway `sutazai serve` (1 process) and `sutazai serve --processes 2`, default settings',
      });
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise<void>((resolve) => bare.server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }
  await writeFile(cfg.out, renderPerformanceMd(reports, machineInfo(), { commit, contexts, processRounds }));
  io.stderr.write(`wrote ${cfg.out}\n`);
  return 0;
}
