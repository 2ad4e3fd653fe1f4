import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { postJson, waitFor } from '../helpers/http.js';
import { duplicateKeys } from './json-log-lines.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('every line the server logs is one JSON object with unique keys', { timeout: 60_000 }, () => {
  let sim: SimHandle;
  let proc: ChildProcess;
  let out = '';
  let url = '';
  let dataDir: string;

  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      models: ['tinyllama'],
      embedModels: ['nomic-embed-text'],
      tps: 500,
    });
    dataDir = await mkdtemp(path.join(tmpdir(), 'sutazai-loglines-'));
    // debug: access lines and everything else a run can write.
    const args = ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--log-level', 'debug'];
    args.push('--upstream', `ollama=${sim.url}`, '--data-dir', dataDir, '--alert-interval-ms', '200');
    proc = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    await waitFor(() => /"url":"(http:[^"]+)"/.test(out), 20_000, 'the gateway to listen');
    url = /"url":"(http:[^"]+)"/.exec(out)![1]!;
  });

  afterAll(async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    await sim.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('across accepted, cached, streamed, rejected and failed requests', async () => {
    const chat = (body: unknown, route = '/api/v1/chat') => postJson(`${url}${route}`, body);
    expect((await chat({ message: 'hello' })).status).toBe(200);
    expect((await chat({ message: 'hello' })).status).toBe(200); // cache hit
    expect((await chat({ message: 'a story' }, '/api/v1/chat/stream')).status).toBe(200);
    expect((await chat({ messages: 'nope' })).status).toBe(400);
    expect((await chat('{not json')).status).toBe(400);
    expect((await chat({ message: 'x', model: 'no-such-model' })).status).toBe(404);
    expect((await chat({ model: 'tinyllama', messages: [] }, '/v1/chat/completions')).status).toBe(400);
    expect((await chat({ task_type: 'chat', payload: {} }, '/api/v1/tasks')).status).toBe(400);
    expect((await fetch(`${url}/no/such/route`)).status).toBe(404);
    sim.setFaults({ midStreamErrorRate: 1 });
    await (
      await fetch(`${url}/api/v1/chat/stream`, {
        method: 'POST',
        body: '{"message":"cut"}',
        headers: { 'content-type': 'application/json' },
      })
    ).text();
    sim.setFaults({ midStreamErrorRate: 0, errorRate: 1 });
    expect((await chat({ message: 'upstream fails', use_cache: false })).status).toBeGreaterThanOrEqual(500);
    sim.setFaults({ errorRate: 0 });
    await waitFor(
      () => out.includes('request rejected') && out.includes('stream failed mid-way'),
      5000,
      'log lines',
    );

    const lines = out.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(() => duplicateKeys(line), line).not.toThrow();
      expect(duplicateKeys(line), line).toEqual([]);
      const o = JSON.parse(line) as Record<string, unknown>;
      expect(typeof o.msg, line).toBe('string');
      expect(typeof o.level, line).toBe('number');
    }
  });

  it('the checker itself finds a duplicate key', () => {
    expect(duplicateKeys('{"a":1,"msg":"x","b":{"c":[{"d":1,"d":2}]},"msg":"y"}')).toEqual(['b.c.d', 'msg']);
    expect(() => duplicateKeys('{"a":')).toThrow();
  });
});
