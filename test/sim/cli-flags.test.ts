import { describe, expect, it } from 'vitest';
import { parseSimArgs, runSimCli, SimCliError } from '../../src/sim/cli.js';
import { call, json, waitFor } from './helpers.js';

describe('sutazai sim flags', () => {
  it('parses every flag', () => {
    const { options } = parseSimArgs([
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--models',
      'a, b:7b',
      '--embed-models',
      'e',
      '--tps',
      '12.5',
      '--ttft-ms',
      '30',
      '--parallel',
      '3',
      '--max-queue',
      '9',
      '--seed=-4',
      '--tokens',
      '50',
      '--error-rate',
      '0.1',
      '--mid-stream-error-rate',
      '0.2',
      '--stall-rate',
      '0.3',
      '--slow-headers-ms',
      '40',
    ]);
    expect(options).toEqual({
      host: '0.0.0.0',
      port: 0,
      models: ['a', 'b:7b'],
      embedModels: ['e'],
      tps: 12.5,
      ttftMs: 30,
      parallel: 3,
      maxQueue: 9,
      seed: -4,
      defaultTokens: 50,
      faults: { errorRate: 0.1, midStreamErrorRate: 0.2, stallRate: 0.3, slowHeadersMs: 40 },
    });
  });

  it('defaults the port to 11434 like Ollama', () => {
    expect(parseSimArgs([]).options).toEqual({ port: 11434 });
  });

  it('rejects bad values with a message naming the flag', () => {
    expect(() => parseSimArgs(['--port', 'x'])).toThrow(/--port/);
    expect(() => parseSimArgs(['--port', '70000'])).toThrow(/--port/);
    expect(() => parseSimArgs(['--parallel', '0'])).toThrow(/--parallel/);
    expect(() => parseSimArgs(['--tps', '-1'])).toThrow(/--tps/);
    expect(() => parseSimArgs(['--error-rate', '1.5'])).toThrow(/--error-rate/);
    expect(() => parseSimArgs(['--ttft-ms', '1.5'])).toThrow(/--ttft-ms/);
    expect(() => parseSimArgs(['--models', 'a,,b'])).toThrow(/--models/);
    expect(() => parseSimArgs(['--tokens', ''])).toThrow(/--tokens/);
    expect(() => parseSimArgs(['--bogus', '1'])).toThrow(/bogus/);
    expect(() => parseSimArgs(['--port'])).toThrow(/--port/);
    expect(() => parseSimArgs(['--seed', 'x'])).toThrow(SimCliError);
  });

  it('runSimCli starts the simulator, prints its URL and stops when signalled', async () => {
    const lines: string[] = [];
    const ac = new AbortController();
    const run = runSimCli(['--port', '0', '--models', 'm1'], {
      out: (l) => lines.push(l),
      signal: ac.signal,
    });
    await waitFor(() => lines.length > 0, 'URL printed');
    const url = /(http:\/\/\S+)/.exec(lines[0] ?? '')?.[1] ?? '';
    const tags = json<{ models: { name: string }[] }>(await call(`${url}/api/tags`, 'GET'));
    expect(tags.models.map((m) => m.name)).toEqual(['m1:latest', 'nomic-embed-text:latest']);
    ac.abort();
    await run;
    await expect(call(`${url}/api/tags`, 'GET')).rejects.toThrow();
  });

  it('--help prints usage without starting anything', async () => {
    const lines: string[] = [];
    await runSimCli(['--help'], { out: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/--max-queue/);
  });
});
