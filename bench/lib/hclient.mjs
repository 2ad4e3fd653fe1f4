// Node wrapper of the exact C client (bench/lib/hclient.c): compiled on first use with gcc into
// bench/.build/, run as a child process (so it never shares an event loop or much CPU with what
// it measures), results parsed from its JSON line.
import { Buffer } from 'node:buffer';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('./hclient.c', import.meta.url));
const BIN = fileURLToPath(new URL('../.build/hclient', import.meta.url));

export function hclientBinary() {
  let fresh = false;
  try {
    fresh = statSync(BIN).mtimeMs >= statSync(SRC).mtimeMs;
  } catch {
    /* not built yet */
  }
  if (!fresh) {
    mkdirSync(fileURLToPath(new URL('../.build/', import.meta.url)), { recursive: true });
    execFileSync('gcc', ['-O2', '-o', BIN, SRC], { stdio: 'inherit' });
  }
  return BIN;
}

let seq = 0;
/** The raw HTTP/1.1 request bytes, written to a temp file for the client. */
function requestFile({ url, method = 'GET', path = '/', body, headers = {} }) {
  const u = new URL(url);
  const payload = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${u.host}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (payload) lines.push('content-type: application/json', `content-length: ${Buffer.byteLength(payload)}`);
  const file = join(tmpdir(), `hclient-${process.pid}-${seq++}.http`);
  writeFileSync(file, `${lines.join('\r\n')}\r\n\r\n${payload}`);
  return { file, host: u.hostname === 'localhost' ? '127.0.0.1' : u.hostname, port: u.port || '80' };
}

function run(args, pinCpus) {
  const bin = hclientBinary();
  const cmd = pinCpus ? 'taskset' : bin;
  const argv = pinCpus ? ['-c', pinCpus, bin, ...args] : args;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.on('error', reject);
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`hclient printed no result: ${out}`));
      }
    });
  });
}

/**
 * Closed loop over `connections` keep-alive connections for `durationS` after `warmupS`:
 * { rps, p50, p90, p99, max (ms), errors, non2xx, connect_ms, client_cpu_us_per_req }.
 */
export function hclientLoop({ connections, durationS, warmupS = 1, pin, ...target }) {
  const { file, host, port } = requestFile(target);
  return run(['loop', host, port, String(connections), String(durationS), String(warmupS), file], pin);
}

/**
 * `clients` connections started at the same instant, one request each:
 * { connected, answered, timeouts, connect_ms {p50,p99,max}, ttfb_ms {p50,p90,p99,max} }.
 */
export function hclientSpike({ clients, timeoutMs = 10_000, pin, ...target }) {
  const { file, host, port } = requestFile(target);
  return run(['spike', host, port, String(clients), String(timeoutMs), file], pin);
}
