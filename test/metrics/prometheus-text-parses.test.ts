import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';
import { eventually, startMetricsStack } from './helpers.js';
import { parsePrometheusText, sum, type Family } from './prom-text.js';

describe('the strict exposition parser', () => {
  it('accepts a well-formed exposition', () => {
    const f = parsePrometheusText(
      [
        '# HELP a_total Things.',
        '# TYPE a_total counter',
        'a_total{x="1",y="q\\"uote\\\\ \\n"} 3',
        '# TYPE h histogram',
        'h_bucket{le="0.1"} 1',
        'h_bucket{le="+Inf"} 2',
        'h_sum 0.3',
        'h_count 2',
        '',
      ].join('\n'),
    );
    expect(f.get('a_total')?.samples[0]?.labels.y).toBe('q"uote\\ \n');
    expect(sum(f, 'h_count')).toBe(2);
  });

  it.each([
    ['a sample without a family', 'x 1\n'],
    ['a bad value', '# TYPE x gauge\nx one\n'],
    ['an unquoted label', '# TYPE x gauge\nx{a=1} 1\n'],
    ['a duplicate series', '# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n'],
    ['a TYPE after samples', '# TYPE x gauge\nx 1\n# TYPE x counter\n'],
    ['a negative counter', '# TYPE x counter\nx -1\n'],
    ['non-cumulative buckets', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n'],
    ['+Inf bucket != count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 3\n'],
    ['no final newline', '# TYPE x gauge\nx 1'],
  ])('rejects %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});

describe('GET /metrics', () => {
  let stack: Stack;
  let families: Map<string, Family>;
  let contentType: string | null;

  beforeAll(async () => {
    stack = await startMetricsStack();
    const url = stack.gw.url;
    // Every surface, streaming, errors, a parameterised route and an unknown path.
    await postJson(`${url}/api/v1/chat`, { model: 'tinyllama', message: 'a "quoted"\nprompt' });
    await fetch(`${url}/api/v1/chat/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tinyllama', message: 'stream me' }),
    }).then((r) => r.text());
    await postJson(`${url}/v1/chat/completions`, {
      model: 'tinyllama',
      messages: [{ role: 'user', content: 'openai' }],
    });
    await postJson(`${url}/api/chat`, {
      model: 'tinyllama',
      messages: [{ role: 'user', content: 'ollama' }],
    });
    await postJson(`${url}/api/v1/chat`, '{broken json');
    await fetch(`${url}/api/v1/agents/some-unknown-id`).then((r) => r.text());
    await fetch(`${url}/no/such/path/12345`).then((r) => r.text());
    const res = await eventually(async () => {
      const r = await fetch(`${url}/metrics`);
      const text = await r.text();
      const f = parsePrometheusText(text);
      return sum(f, 'sutazai_http_requests_total', { surface: 'system' }) >= 1 &&
        sum(f, 'sutazai_llm_requests_total', { surface: 'ollama' }) >= 1
        ? { r, f }
        : undefined;
    });
    contentType = res.r.headers.get('content-type');
    families = res.f;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('is Prometheus text format that parses line by line', () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(families.size).toBeGreaterThan(20);
    for (const f of families.values()) expect(f.help, f.name).toBeDefined();
  });

  it('has bounded labels: route patterns, not raw paths', () => {
    const routes = new Set(
      families.get('sutazai_http_requests_total')?.samples.map((s) => s.labels.route ?? '') ?? [],
    );
    expect(routes).toContain('/api/v1/agents/:id');
    expect(routes).toContain('<unmatched>');
    expect([...routes].some((r) => r.includes('12345') || r.includes('some-unknown-id'))).toBe(false);
    const surfaces = new Set(
      families.get('sutazai_llm_requests_total')?.samples.map((s) => s.labels.surface),
    );
    expect(surfaces).toEqual(new Set(['v1', 'openai', 'ollama']));
    // No prompt text anywhere.
    for (const f of families.values()) {
      for (const s of f.samples) expect(Object.values(s.labels).join(' ')).not.toMatch(/quoted|stream me/);
    }
  });

  it('covers the families the dashboards rely on', () => {
    for (const name of [
      'sutazai_http_request_duration_seconds',
      'sutazai_llm_time_to_first_token_seconds',
      'sutazai_upstream_request_duration_seconds',
      'sutazai_gateway_overhead_seconds',
      'sutazai_cache_requests_total',
      'sutazai_upstream_pool_connections',
      'sutazai_upstream_up',
      'sutazai_event_loop_utilization',
      'sutazai_event_loop_lag_seconds',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'sutazai_queue_jobs',
      'sutazai_alerts_active',
    ]) {
      expect(families.has(name), name).toBe(true);
    }
    expect(sum(families, 'sutazai_http_errors_total', { code: 'SUTAZAI_ERR_INVALID_JSON' })).toBe(1);
    expect(sum(families, 'sutazai_llm_time_to_first_token_seconds_count', { surface: 'v1' })).toBe(2);
  });

  it('exports every metric the Grafana dashboard queries', async () => {
    const file = path.join(import.meta.dirname, '../../docs/grafana/sutazai-dashboard.json');
    const dash = JSON.parse(await readFile(file, 'utf8')) as {
      panels: Array<{ targets?: Array<{ expr: string }> }>;
    };
    const exprs = dash.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    expect(exprs.length).toBeGreaterThan(20);
    const names = new Set(exprs.flatMap((e) => e.match(/\b(sutazai|process|nodejs)_[a-z0-9_]+/g) ?? []));
    for (const n of names) {
      const family = n.replace(/_(bucket|sum|count)$/, '');
      expect(families.has(family) || families.has(n), n).toBe(true);
    }
  });
});
