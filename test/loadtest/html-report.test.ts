import { readFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/loadtest/report.js';
import { startFakeTarget, type FakeTarget } from './fake-target.js';
import { runCli } from './cli-helpers.js';

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link', 'area', 'base', 'col', 'source', 'wbr']);

/**
 * A strict little HTML/SVG well-formedness check: every non-void element closes, in order;
 * self-closing tags are allowed only in SVG. Returns the problems found (empty = valid) and the
 * element counts. Script/style bodies are skipped as raw text.
 */
function parseHtml(html: string): { problems: string[]; counts: Record<string, number>; ids: string[] } {
  const problems: string[] = [];
  const counts: Record<string, number> = {};
  const ids: string[] = [];
  const stack: string[] = [];
  const re =
    /<!--[\s\S]*?-->|<!DOCTYPE[^>]*>|<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*(\/?)>/g;
  let last = 0;
  for (let m = re.exec(html); m !== null; m = re.exec(html)) {
    const between = html.slice(last, m.index);
    if (/[<>]/.test(between)) problems.push(`stray angle bracket near: ${between.slice(0, 60)}`);
    last = re.lastIndex;
    const [, close, rawName, attrs, selfClose] = m;
    if (rawName === undefined) continue;
    const name = rawName.toLowerCase();
    if (close === '/') {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}>`);
      continue;
    }
    counts[name] = (counts[name] ?? 0) + 1;
    const id = /\sid="([^"]*)"/.exec(attrs ?? '')?.[1];
    if (id !== undefined) ids.push(id);
    for (const a of (attrs ?? '').matchAll(/\s(src|href)="([^"]*)"/g))
      problems.push(`external reference ${a[1]}="${a[2]}"`);
    if (selfClose === '/') {
      if (!stack.includes('svg')) problems.push(`self-closing <${name}/> outside svg`);
      continue;
    }
    if (VOID.has(name)) continue;
    if (name === 'script' || name === 'style') {
      const end = html.indexOf(`</${name}>`, re.lastIndex);
      if (end === -1) problems.push(`unterminated <${name}>`);
      re.lastIndex = end;
      last = end;
    }
    stack.push(name);
  }
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(' > ')}`);
  return { problems, counts, ids };
}

describe('HTML report', () => {
  let target: FakeTarget;
  let html = '';
  let report: Report | undefined;
  beforeAll(async () => {
    let n = 0;
    target = await startFakeTarget({ latencyMs: () => 2, chatStatus: () => (++n % 10 === 0 ? 503 : 200) });
    const file = join(mkdtempSync(join(tmpdir(), 'lt-html-')), 'report.html');
    const run = await runCli([
      'progressive',
      '--url',
      target.url,
      '--stages',
      '2,6',
      '--stage-duration',
      '1200ms',
      '--warmup',
      '0s',
      '--think',
      '20ms',
      '--mix',
      'repeat=5,stream=3,health=1,task=1',
      '--task-poll',
      '20ms',
      '--metrics-interval',
      '200ms',
      '--html',
      file,
      '--no-slo',
    ]);
    report = run.report;
    html = await readFile(file, 'utf8');
  });
  afterAll(() => target.close());

  it('the checker itself rejects broken markup', () => {
    expect(parseHtml('<div><span></div>').problems.length).toBeGreaterThan(0);
    expect(parseHtml('<p>a < b</p>').problems.length).toBeGreaterThan(0);
    expect(parseHtml('<img src="http://x/y.png">').problems.length).toBeGreaterThan(0);
  });

  it('is well-formed, self-contained HTML', () => {
    const { problems } = parseHtml(html);
    expect(problems).toEqual([]);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg|127\.0\.0\.1)/);
  });

  it('has the verdict, per-stage latency, throughput, errors and memory sections with charts', () => {
    const { ids, counts } = parseHtml(html);
    expect(ids).toEqual(
      expect.arrayContaining([
        'verdict',
        'latency',
        'throughput',
        'errors',
        'memory',
        'setup',
        'report-data',
      ]),
    );
    // per-stage bars, throughput, latency over time, errors over time, memory over time
    expect(counts.svg).toBeGreaterThanOrEqual(5);
    expect(html).toContain('latency per stage');
    expect(html).toContain('server memory (from /api/v1/metrics)');
    expect(html).toContain('http_503');
    for (const s of report?.stages ?? []) expect(html).toContain(s.name);
  });

  it('embeds the report data as parseable JSON', () => {
    const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
    const data = JSON.parse(m?.[1] ?? 'null') as Report;
    expect(data.tool).toBe('sutazai-loadtest');
    expect(data.stages).toHaveLength(2);
    expect(data.server.samples.length).toBeGreaterThan(2);
    expect(data.stages[1]?.stats.ttft.count).toBeGreaterThan(0);
  });
});
