import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMonitorArgs } from '../../src/cli/monitor.js';
import type { MonitorSample } from '../../src/cli/monitor-view.js';
import type { Stack } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';
import { startMetricsStack } from './helpers.js';

const ENTRY = path.join(import.meta.dirname, 'fixtures', 'run-monitor.ts');

interface Run {
  code: number | null;
  output: string;
}

/** Run the monitor in its own process; once it has printed `samples` lines, send SIGINT. */
function runMonitor(args: string[], samples: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let lines = 0;
    let signalled = false;
    const onData = (d: Buffer) => {
      output += d.toString();
      lines = output.split('\n').filter((l) => /^\d{4}-/.test(l)).length;
      if (!signalled && lines >= samples) {
        signalled = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const guard = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, output });
    });
  });
}

interface ExportFile {
  url: string;
  interval_s: number;
  samples: MonitorSample[];
  alerts: Array<{ key: string; kind: string }>;
  statistics: { samples: number; availability: number; p95_ms: { samples: number } };
}

describe('sutazai monitor', () => {
  let stack: Stack;
  let dir: string;

  beforeAll(async () => {
    stack = await startMetricsStack({ gateway: { alertIntervalMs: 100 } });
    dir = await mkdtemp(path.join(tmpdir(), 'sutazai-monitor-'));
  });

  afterAll(async () => {
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('polls the public API and writes the sampled history on SIGINT', async () => {
    for (let i = 0; i < 5; i++) {
      await postJson(`${stack.gw.url}/api/v1/chat`, { model: 'tinyllama', message: `monitor ${i}` });
    }
    const file = path.join(dir, 'history.json');
    const run = await runMonitor(['--url', stack.gw.url, '--interval', '0.3', '--export', file], 3);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/samples written to/);
    const exp = JSON.parse(await readFile(file, 'utf8')) as ExportFile;
    expect(exp.url).toBe(stack.gw.url);
    expect(exp.interval_s).toBe(0.3);
    expect(exp.samples.length).toBeGreaterThanOrEqual(3);
    expect(exp.statistics.samples).toBe(exp.samples.length);
    expect(exp.statistics.availability).toBe(1);
    for (const s of exp.samples) {
      expect(s.reachable).toBe(true);
      expect(s.probe_ms).toBeGreaterThan(0);
      expect(s.upstreams_down).toBe(0);
      expect(['ok', 'warning', 'critical']).toContain(s.status);
    }
    // The five chats are in the 10 s window; the monitor's own polls are not traffic.
    expect(exp.samples.at(-1)?.p95_ms).not.toBeNull();
    expect(exp.statistics.p95_ms.samples).toBe(exp.samples.length);
  });

  it('records an unreachable gateway as such (not as 0% errors) and still exports', async () => {
    const file = path.join(dir, 'down.json');
    const run = await runMonitor(['--url', 'http://127.0.0.1:9', '--interval', '0.2', '--export', file], 2);
    expect(run.code, run.output).toBe(0);
    const exp = JSON.parse(await readFile(file, 'utf8')) as ExportFile;
    expect(exp.samples.length).toBeGreaterThanOrEqual(2);
    expect(exp.statistics.availability).toBe(0);
    for (const s of exp.samples) {
      expect(s).toMatchObject({ reachable: false, status: 'unreachable', error_rate: null, probe_ms: -1 });
      expect(s.error).toBeTruthy();
    }
  });

  it('rejects bad arguments', () => {
    expect(() => parseMonitorArgs(['--url', 'ftp://x'])).toThrow(/--url/);
    expect(() => parseMonitorArgs(['--interval', '0'])).toThrow(/--interval/);
    expect(() => parseMonitorArgs(['--header', 'novalue'])).toThrow(/--header/);
    expect(parseMonitorArgs(['--url', 'http://h:1/', '--header', 'X-Key: s3'])).toMatchObject({
      url: 'http://h:1',
      intervalS: 2,
      headers: { 'x-key': 's3' },
    });
  });
});
