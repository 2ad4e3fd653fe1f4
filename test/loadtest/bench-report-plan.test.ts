import { describe, expect, it } from 'vitest';
import { BENCH_STEPS, renderPerformanceMd, stepArgv } from '../../src/loadtest/bench-report.js';
import { parseConfig } from '../../src/loadtest/config.js';
import type { Report } from '../../src/loadtest/report.js';
import { sliceStats } from '../../src/loadtest/stats.js';
import { runCli } from './cli-helpers.js';
import { recordingOf } from './recording-helpers.js';

/** Stats of a one-second stage with two requests (12 ms and 14 ms). */
const twoRequestStats = () =>
  sliceStats(
    recordingOf([
      [0, 12],
      [10, 14],
    ]),
    0,
    1000,
  );

describe('bench:report skeleton', () => {
  it('--dry-run lists every step as a loadtest command line that parses', async () => {
    const run = await runCli(['report', '--dry-run']);
    expect(run.code).toBe(0);
    for (const s of BENCH_STEPS) {
      expect(run.stdout).toContain(s.id);
      const argv = stepArgv(s, {
        gatewayUrl: 'http://127.0.0.1:1',
        simUrl: 'http://127.0.0.1:2',
        bareUrl: 'http://127.0.0.1:3',
      });
      expect(() => parseConfig(argv)).not.toThrow();
    }
  });

  it('renders measured steps as tables and the rest as not run', () => {
    const stats = twoRequestStats();
    const report = {
      stages: [{ name: '5 users', load: 5, unit: 'users', fromS: 0, toS: 1, stats }],
    } as unknown as Report;
    const md = renderPerformanceMd(new Map([['spike', report]]), { cpus: 2 });
    expect(md).toContain('| 5 users | 2 |');
    expect(md.match(/_Not run yet\._/g)).toHaveLength(BENCH_STEPS.length); // the others and 1 vs 2 processes
  });

  it("puts the gateway's own percentiles next to the load tester's for the same stage", () => {
    const stats = twoRequestStats();
    const report = {
      stages: [
        { name: 'gateway c=1', load: 1, unit: 'conns', fromS: 0, toS: 1, stats },
        { name: 'direct c=1', load: 1, unit: 'conns', fromS: 1, toS: 2, stats },
      ],
      server: {
        path: '/api/v1/metrics',
        samples: [],
        last: { traffic: { windows: { '10s': { p50_ms: 0.5, p95_ms: 1.25, p99_ms: 2 } } } },
      },
    } as unknown as Report;
    const md = renderPerformanceMd(new Map([['spike', report]]), { cpus: 2 });
    expect(md).toContain('stage gateway c=1');
    expect(md).toContain('| gateway metrics API (server side) | 0.5 | 1.3 | 2.0 |');
  });

  it('states commit, load average and the upstream settings next to every table, and the 1 vs 2 processes ratio', () => {
    const stats = twoRequestStats();
    const stage = (okRps: number) =>
      ({
        stages: [
          { name: '1000 users', load: 1000, unit: 'users', fromS: 0, toS: 1, stats: { ...stats, okRps } },
        ],
      }) as unknown as Report;
    const md = renderPerformanceMd(
      new Map([['spike', stage(100)]]),
      { cpus: 2 },
      {
        commit: 'abc1234',
        contexts: new Map([['spike', { loadBefore: 1.5, loadAfter: 2.25, target: 'gateway, 1 process' }]]),
        processRounds: [
          { one: stage(1000), two: stage(1500) },
          { one: stage(1000), two: stage(1300) },
          { one: stage(1000), two: stage(1400) },
        ],
      },
    );
    expect(md).toContain('Commit abc1234; gateway, 1 process; load average 1.5 before, 2.25 after');
    expect(md.match(/Upstream: the simulator/g)).toHaveLength(BENCH_STEPS.length + 1);
    expect(md).toContain('TTFT 0 ms, 4 slots (--parallel)');
    expect(md).toContain('Median ratio 2 processes / 1 process: **1.40** (spread 1.30–1.50)');
  });
});
