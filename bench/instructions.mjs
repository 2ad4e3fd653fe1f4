#!/usr/bin/env node
// Machine instructions per request, counted by valgrind's callgrind: a before/after figure that,
// unlike time or CPU seconds, does not move with what else the shared machine is doing (A/A runs
// differ by a few per cent, from GC and JIT timing, where CPU time per request differed by 10-20 %).
// It is not a benchmark (instructions are not time: a cache miss or a syscall's wait is one
// instruction) but it tells whether a change made the gateway do less work.
//
// Each side is a gateway run under `valgrind --tool=callgrind` with instrumentation off; after a
// warm-up (so the JIT has settled) the script switches counting on for --requests requests, off
// again, and dumps; --rounds times. Reports the median instructions per request of each side.
// Needs valgrind (Debian's package).
// Usage: npm run build && node bench/instructions.mjs [--cached] [--surface v1|ollama|openai]
//        [--env K=V ...] [--base-env K=V ...] [--base OTHER/dist/cli/main.js]
//        [--requests 3000] [--rounds 3] [--warmup 6000] [--conc 4]
//   e.g. the cost of metrics on cache hits:
//        node bench/instructions.mjs --cached --base-env SUTAZAI_METRICS=false
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { CLI, freePort, startSim, waitHttp } from './lib/procs.mjs';

const { values } = parseArgs({
  options: {
    cached: { type: 'boolean', default: false },
    surface: { type: 'string', default: 'v1' },
    env: { type: 'string', multiple: true, default: [] },
    'base-env': { type: 'string', multiple: true, default: [] },
    base: { type: 'string' },
    requests: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '6000' },
    conc: { type: 'string', default: '4' },
  },
});
const kv = (list) =>
  Object.fromEntries(list.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));

const REQUESTS = {
  v1: { path: '/api/v1/chat', body: { message: 'Hello, how are you?', use_cache: values.cached } },
  ollama: {
    path: '/api/chat',
    body: { model: 'tinyllama', messages: [{ role: 'user', content: 'Hello, how are you?' }], stream: false },
  },
  openai: {
    path: '/v1/chat/completions',
    body: { model: 'tinyllama', messages: [{ role: 'user', content: 'Hello, how are you?' }] },
  },
};
const req = REQUESTS[values.surface];
if (!req) throw new Error(`--surface: one of ${Object.keys(REQUESTS).join(', ')}`);

/** Send `n` requests over `conc` keep-alive connections; throws on any non-200. */
async function drive(url, n) {
  const conc = Number(values.conc);
  const pool = new Pool(url, { connections: conc });
  const body = JSON.stringify(req.body);
  let left = n;
  try {
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (left-- > 0) {
          const r = await pool.request({
            method: 'POST',
            path: req.path,
            headers: { 'content-type': 'application/json' },
            body,
          });
          const text = await r.body.text();
          if (r.statusCode !== 200) throw new Error(`HTTP ${r.statusCode}: ${text.slice(0, 200)}`);
        }
      }),
    );
  } finally {
    await pool.close();
  }
}

const control = (pid, ...args) =>
  execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' });

async function measure(side, cli, env, simUrl) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sutazai-cg-'));
  const port = await freePort();
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      '--smc-check=all-non-file',
      `--callgrind-out-file=${dir}/cg.out`,
      process.execPath,
      cli,
      'serve',
      '--port',
      String(port),
      '--upstream',
      `ollama=${simUrl}`,
    ],
    {
      env: {
        ...process.env,
        SUTAZAI_LOG_LEVEL: 'warn',
        SUTAZAI_CACHE_MODE: values.cached ? 'all' : 'off',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHttp(`${url}/`, 120_000);
    await drive(url, Number(values.warmup));
    const perRequest = [];
    for (let r = 0; r < Number(values.rounds); r++) {
      control(child.pid, '--zero');
      control(child.pid, '--instr=on');
      await drive(url, Number(values.requests));
      control(child.pid, '--instr=off');
      control(child.pid, '--dump');
      const files = readdirSync(dir).filter((f) => f.startsWith('cg.out.'));
      const last = files.sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop())).at(-1);
      const totals = /^totals: (\d+)/m.exec(readFileSync(path.join(dir, last), 'utf8'));
      if (!totals) throw new Error(`no totals in ${last}`);
      perRequest.push(Number(totals[1]) / Number(values.requests));
      process.stderr.write(
        `${side} round ${r + 1}: ${(perRequest.at(-1) / 1000).toFixed(1)} k instructions per request\n`,
      );
    }
    return perRequest;
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

const machine = machineInfo();
const sim = await startSim();
let base;
let self;
try {
  base = await measure(
    'base',
    values.base ? path.resolve(values.base) : CLI,
    kv(values['base-env']),
    sim.url,
  );
  self = await measure('this', CLI, kv(values.env), sim.url);
} finally {
  await sim.stop();
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const k = (n) => `${(n / 1000).toFixed(1)}k`;
console.log(
  `${values.cached ? 'cached' : 'uncached'} ${values.surface} chat, ${values.rounds} rounds × ${values.requests} requests (conc ${values.conc}), gateway instructions per request:`,
);
console.log(`base: median ${k(med(base))} (rounds ${base.map(k).join(' ')})`);
console.log(
  `this: median ${k(med(self))} (rounds ${self.map(k).join(' ')}) → ×${(med(self) / med(base)).toFixed(3)}`,
);
console.log(finishMachine(machine));
