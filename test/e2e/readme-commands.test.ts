import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/http.js';
import { freePort } from '../queue/processes.js';

/**
 * The README's commands and the curl lines `npm run demo` prints, run as a newcomer would against
 * the demo, so neither can drift from the code.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = `${process.execPath} --import tsx src/cli/main.ts`;

function sh(line: string, timeoutMs = 60_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', line],
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, out: stdout + stderr });
      },
    );
  });
}

/** The ```bash blocks of README.md, in order. */
async function readmeBlocks(): Promise<string[][]> {
  const text = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  return [...text.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) =>
    m[1]!.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')),
  );
}

describe('README commands against npm run demo', { timeout: 120_000 }, () => {
  let demo: ChildProcess;
  let printed = '';
  let port: number;
  let dataDir: string;

  beforeAll(async () => {
    port = await freePort();
    dataDir = await mkdtemp(path.join(tmpdir(), 'sutazai-readme-'));
    // What `npm run demo` runs, from source (the suite does not need a build).
    demo = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--port', String(port)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SUTAZAI_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout?.on('data', (b: Buffer) => (printed += b.toString()));
    demo.stderr?.on('data', (b: Buffer) => (printed += b.toString()));
    await waitFor(() => printed.includes('Ctrl+C to stop.'), 30_000, 'the demo to print its lines');
  });

  afterAll(async () => {
    const exited = new Promise((r) => demo.once('exit', r));
    demo.kill('SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('the quick-start lines name scripts that exist', async () => {
    const [quick] = await readmeBlocks();
    const scripts = (
      JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    const used = quick!.flatMap((l) =>
      [...l.split('#')[0]!.matchAll(/npm (?:run )?([a-z:]+)/g)].map((m) => m[1]!),
    );
    expect(used).toEqual(['install', 'start', 'demo', 'test']);
    for (const s of used.filter((u) => u !== 'install')) expect(scripts[s], s).toBeDefined();
  });

  it('every curl line the demo prints succeeds', async () => {
    const lines = printed.split('\n').filter((l) => l.trim().startsWith('curl '));
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) {
      const r = await sh(`set -o pipefail; ${line.trim().replace(/ \| jq$/, '')} --fail-with-body`);
      expect(r.code, `${line}\n${r.out}`).toBe(0);
      expect(r.out, line).not.toContain('"error"');
      expect(r.out.length, line).toBeGreaterThan(0);
    }
  });

  it("the README's demo lines run: chat, stream, task, and the load test passes its SLO", async () => {
    const block = (await readmeBlocks()).find((b) => b.some((l) => l.startsWith('curl ')))!;
    const local = (l: string) =>
      l.replaceAll('localhost:10010', `localhost:${port}`).replaceAll('127.0.0.1:10010', `127.0.0.1:${port}`);
    const curls = block.filter((l) => l.startsWith('curl '));
    expect(curls).toHaveLength(3);
    const [chat, stream, task] = await Promise.all(curls.map((l) => sh(`${local(l)} --fail-with-body`)));
    expect(JSON.parse(chat!.out)).toMatchObject({ model: 'tinyllama', finish_reason: 'stop' });
    // "the same request again is a cache hit"
    const again = await sh(`${local(curls[0]!)} -i`);
    expect(again.out).toMatch(/x-sutazai-cache: hit-l1/i);
    expect(again.out).toContain('"cached":true');
    expect(stream!.out).toMatch(/^event: token\n/);
    expect(stream!.out).toContain('event: done');
    expect(JSON.parse(task!.out)).toMatchObject({ status: 'queued' });
    // As a newcomer would, follow the task to its end (this also opens the embedded store,
    // seconds of CPU, before the load test rather than during it).
    const taskId = (JSON.parse(task!.out) as { task_id: string }).task_id;
    await waitFor(
      async () => (await sh(`curl -s localhost:${port}/api/v1/tasks/${taskId}`)).out.includes('"completed"'),
      30_000,
      'the README task to complete',
    );

    const loadtest = block.find((l) => l.startsWith('npx sutazai loadtest'))!;
    const r = await sh(`${local(loadtest).replace('npx sutazai', CLI)} --quiet`, 90_000);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SLO PASS');
    const alerts = (await (await fetch(`http://127.0.0.1:${port}/api/v1/alerts`)).json()) as {
      active: unknown[];
      history: unknown[];
    };
    expect(alerts.active, JSON.stringify(alerts)).toEqual([]); // the demo's own traffic raises no alert
    expect(alerts.history, JSON.stringify(alerts)).toEqual([]);
  });
});
