import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import { QUICK, runCli } from './cli-helpers.js';

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const mixed = ['--mix', 'fresh=2,stream=2,health=1', '--stages', '3', '--model', 'llama3.2'];

describe('openai and ollama target modes against the simulator', () => {
  it.each(['openai', 'ollama'] as const)(
    '%s: chat, streaming and health succeed, tokens and TTFT measured',
    async (mode) => {
      sim = await startSimulator({ defaultTokens: 8 });
      const run = await runCli(['progressive', '--url', sim.url, '--target', mode, ...mixed, ...QUICK]);
      const st = run.report?.stages[0]?.stats;
      expect(run.report?.errorDetails).toEqual({});
      expect(st?.errors).toBe(0);
      expect(st?.ok).toBeGreaterThan(5);
      expect(st?.ttft.count).toBe(st?.byKind.stream);
      expect(st?.interToken.count).toBeGreaterThan(0);
      expect(st?.tokens).toBeGreaterThanOrEqual(8 * ((st?.byKind.fresh ?? 0) + (st?.byKind.stream ?? 0)));
      expect(run.code).toBe(0);
      const paths = sim.stats().requests;
      expect(Object.keys(paths)).toEqual(
        expect.arrayContaining(
          mode === 'openai' ? ['/v1/chat/completions', '/v1/models'] : ['/api/chat', '/api/version'],
        ),
      );
    },
  );

  it('mid-stream errors are stream errors; a full queue shows as shed 503s', async () => {
    sim = await startSimulator({
      parallel: 1,
      maxQueue: 1,
      tps: 200,
      defaultTokens: 10,
      faults: { midStreamErrorRate: 1 },
    });
    const run = await runCli([
      'progressive',
      '--url',
      sim.url,
      '--target',
      'ollama',
      '--model',
      'llama3.2',
      '--mix',
      'stream=1',
      '--stages',
      '6',
      ...QUICK,
    ]);
    const kinds = run.report?.stages[0]?.stats.errorsByKind ?? {};
    expect(kinds.stream).toBeGreaterThan(0);
    expect(kinds.http_503).toBeGreaterThan(0);
    expect(run.code).toBe(1);
  });
});
