import { describe, expect, it } from 'vitest';
import type { HealthMonitor, UpstreamStatus } from '../../src/upstreams/health-monitor.js';
import { watchUpstreams } from '../../src/cli/upstream-hint.js';
import { waitFor } from '../helpers/http.js';

const status = (s: UpstreamStatus['status']): UpstreamStatus => ({
  id: 'ollama@h:1',
  kind: 'ollama',
  url: 'http://h:1',
  status: s,
  latencyMs: 0,
  checkedAt: new Date().toISOString(),
  slots: 4,
  weight: 1,
  outstanding: 0,
  breaker: { state: s === 'unhealthy' ? 'open' : 'closed', failures: 0, opened: 0 },
  retries: 0,
});

describe('no-model-server hint', () => {
  it('warns at once, repeats no sooner than repeatMs, and says when the server answers', async () => {
    let current = [status('unhealthy')];
    const health: HealthMonitor = {
      upstreams: () => current,
      refresh: () => Promise.resolve(current),
      close: () => undefined,
    };
    const lines: Array<[string, string]> = [];
    const log = {
      warn: (_o: object, m: string) => lines.push(['warn', m]),
      info: (_o: object, m: string) => lines.push(['info', m]),
    };
    const w = watchUpstreams({ health, log, checkMs: 10, repeatMs: 300 });
    try {
      await waitFor(() => lines.length === 1, 1000, 'first warning');
      expect(lines[0]?.[1]).toMatch(/^no model server answers at http:\/\/h:1/);
      await new Promise((r) => setTimeout(r, 150));
      expect(lines).toHaveLength(1); // 15 checks, one warning
      await waitFor(() => lines.length === 2, 2000, 'repeat');
      expect(lines[1]).toEqual(['warn', expect.stringMatching(/^still no model server/)]);
      current = [status('healthy')];
      await waitFor(() => lines.length === 3, 1000, 'recovery line');
      expect(lines[2]).toEqual(['info', 'model server answers now at http://h:1']);
    } finally {
      w.close();
    }
  });
});
