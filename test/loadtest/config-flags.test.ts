import { describe, expect, it } from 'vitest';
import { parseConfig, parseDuration, UsageError } from '../../src/loadtest/config.js';
import { parseMix } from '../../src/loadtest/mix.js';
import { splitCount, splitPlan } from '../../src/loadtest/workers.js';

function problems(argv: string[]): string[] {
  try {
    parseConfig(argv);
    return [];
  } catch (err) {
    return err instanceof UsageError ? err.problems : [String(err)];
  }
}

describe('flags', () => {
  it('defaults follow the seed: 5→1000 users, seed SLOs, cache-heavy mix', () => {
    const c = parseConfig(['progressive', '--url', 'http://127.0.0.1:1']);
    expect(c?.stages).toEqual([5, 25, 100, 500, 1000]);
    expect(c?.slo).toEqual({ ttftP95Ms: 1000, errorRatePct: 1, recoveryMs: 5000 });
    expect(c?.mix.repeat).toBeGreaterThan(50);
    expect(c?.loop).toBe('closed');
  });

  it('durations take units; latency SLO flags take bare milliseconds', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('2')).toBe(2000);
    expect(Number.isNaN(parseDuration('soon'))).toBe(true);
    const c = parseConfig([
      'spike',
      '--url',
      'http://x:1',
      '--slo-p99',
      '750',
      '--slo-recovery',
      '3s',
      '--think',
      '0',
    ]);
    expect(c?.slo.p99Ms).toBe(750);
    expect(c?.slo.recoveryMs).toBe(3000);
    expect(c?.thinkMs).toBe(0);
  });

  it('overhead defaults to fresh prompts and never thinks; openai/ollama need a model', () => {
    const c = parseConfig(['overhead', '--url', 'http://x:1', '--direct', 'http://y:2', '--think', '5s']);
    expect(c?.mix).toEqual({ repeat: 0, fresh: 100, stream: 0, health: 0, task: 0 });
    expect(c?.thinkMs).toBe(0);
    expect(problems(['overhead', '--url', 'http://x:1'])).toEqual([expect.stringContaining('--direct')]);
    expect(problems(['progressive', '--url', 'http://x:1', '--target', 'openai'])).toEqual([
      expect.stringContaining('--model'),
    ]);
    expect(
      problems([
        'progressive',
        '--url',
        'http://x:1',
        '--target',
        'ollama',
        '--model',
        'm',
        '--mix',
        'task=1',
      ]),
    ).toHaveLength(1);
  });

  it('--help returns null; unknown flags and scenarios are usage errors', () => {
    expect(parseConfig(['--help'])).toBeNull();
    expect(problems(['progressive', '--url', 'http://x:1', '--bogus'])).toHaveLength(1);
    expect(problems(['marathon', '--url', 'http://x:1'])[0]).toContain('scenario');
    expect(problems(['progressive', '--url', 'http://x:1', '--header', 'nocolon'])[0]).toContain('--header');
  });

  it('mix parsing', () => {
    expect(parseMix('repeat=3, stream=1')).toEqual({ repeat: 3, fresh: 0, stream: 1, health: 0, task: 0 });
    expect(() => parseMix('repeat=0')).toThrow(/at least one/);
    expect(() => parseMix('repeat')).toThrow(/KIND=WEIGHT/);
  });
});

describe('work split across worker threads', () => {
  it('users split evenly; open-loop arrivals interleave', () => {
    expect(splitCount(10, 3)).toEqual([4, 3, 3]);
    const plan = {
      loop: 'open' as const,
      durationMs: 1000,
      segments: [{ rate: 100, startMs: 0, stopMs: 1000 }],
    };
    expect(splitPlan(plan, 2, 1)).toEqual({ ...plan, segments: [{ rate: 50, startMs: 10, stopMs: 1000 }] });
    const closed = {
      loop: 'closed' as const,
      durationMs: 1000,
      groups: [{ users: 5, startMs: 0, stopMs: 1000 }],
    };
    expect(splitPlan(closed, 2, 0)).toEqual({ ...closed, groups: [{ users: 3, startMs: 0, stopMs: 1000 }] });
  });
});
