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
    expect(md.match(/_Not run yet\._/g)).toHaveLength(BENCH_STEPS.length - 1);
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
});
