import type { Report } from './report.js';
import { barChart, esc, lineChart, type Series } from './svg.js';
import type { LatencySummary } from './types.js';

const C = { p50: '#2b6cb0', p95: '#dd6b20', p99: '#c53030', ok: '#2f855a', err: '#c53030', mem: '#6b46c1' };

function n(v: number, digits = 1): string {
  return Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(digits)) : '–';
}

function tableHtml(head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`;
}

function lat(l: LatencySummary): string[] {
  return [n(l.p50), n(l.p95), n(l.p99), n(l.max)];
}

function pts(t: number[], v: number[]): [number, number][] {
  return t.map((x, i) => [x, v[i] ?? Number.NaN]);
}

/** Latency percentiles per stage, throughput, errors and server memory as one offline HTML file. */
export function renderHtml(r: Report): string {
  const parts: string[] = [];
  const verdict = r.slo.enabled ? (r.slo.pass ? 'PASS' : 'FAIL') : 'not evaluated';
  parts.push(
    section(
      'verdict',
      `SLO: ${verdict}`,
      tableHtml(
        ['check', 'limit (<)', 'actual', 'result'],
        r.slo.checks.map((c) => [c.name, n(c.limit, 2), n(c.actual, 2), c.pass ? 'pass' : 'FAIL']),
      ) +
        (r.warnings.length > 0
          ? `<ul class="warn">${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`
          : ''),
    ),
  );

  const names = r.stages.map((s) => s.name);
  parts.push(
    section(
      'latency',
      'Latency percentiles per stage (ms, successful requests)',
      barChart({
        title: 'latency per stage',
        yLabel: 'ms',
        categories: names,
        series: [
          { name: 'p50', color: C.p50, values: r.stages.map((s) => s.stats.latency.p50) },
          { name: 'p95', color: C.p95, values: r.stages.map((s) => s.stats.latency.p95) },
          { name: 'p99', color: C.p99, values: r.stages.map((s) => s.stats.latency.p99) },
        ],
      }) +
        tableHtml(
          [
            'stage',
            'load',
            'requests',
            'ok/s',
            'p50',
            'p95',
            'p99',
            'max',
            'error %',
            'tokens/s',
            'TTFT p50',
            'inter-token p50',
            'gen CPU %',
            'SLO',
          ],
          r.stages.map((s) => [
            s.name,
            `${s.load} ${s.unit}`,
            String(s.stats.requests),
            n(s.stats.okRps),
            ...lat(s.stats.latency),
            n(s.stats.errorRatePct, 2),
            n(s.stats.tokensPerSec),
            n(s.stats.ttft.p50),
            n(s.stats.interToken.p50, 2),
            s.generator === undefined ? '–' : n(s.generator.cpuPct, 0),
            s.slo === undefined ? '' : s.slo.pass ? 'pass' : 'FAIL',
          ]),
        ),
    ),
  );

  const tl = r.timeline;
  const markers =
    r.spike === undefined
      ? r.stages.length > 1 && r.scenario === 'progressive'
        ? r.stages.map((s) => ({ x: s.fromS, label: s.name }))
        : []
      : [
          { x: r.spike.spikeAtS, label: 'spike' },
          { x: r.spike.dropAtS, label: 'back' },
        ];
  parts.push(
    section(
      'throughput',
      'Throughput over time',
      lineChart({
        title: 'completed requests per second',
        xLabel: 'seconds',
        yLabel: 'req/s',
        markers,
        series: [{ name: 'ok', color: C.ok, points: pts(tl.t, tl.okRps) }],
      }) +
        lineChart({
          title: 'latency over time (by request start)',
          xLabel: 'seconds',
          yLabel: 'ms',
          markers,
          series: [
            { name: 'p50', color: C.p50, points: pts(tl.t, tl.p50) },
            { name: 'p99', color: C.p99, points: pts(tl.t, tl.p99) },
          ],
        }),
    ),
  );

  const kinds = [...new Set(r.stages.flatMap((s) => Object.keys(s.stats.errorsByKind)))].sort();
  parts.push(
    section(
      'errors',
      'Errors',
      lineChart({
        title: 'failed requests per second',
        xLabel: 'seconds',
        yLabel: 'errors/s',
        markers,
        series: [{ name: 'errors', color: C.err, points: pts(tl.t, tl.errRps) }],
      }) +
        (kinds.length === 0
          ? '<p>No errors.</p>'
          : tableHtml(
              ['stage', ...kinds],
              r.stages.map((s) => [s.name, ...kinds.map((k) => String(s.stats.errorsByKind[k] ?? 0))]),
            )) +
        Object.entries(r.errorDetails)
          .map(([k, list]) => `<p><b>${esc(k)}</b>: ${list.map(esc).join('<br>')}</p>`)
          .join(''),
    ),
  );

  const mem: Series = {
    name: 'server RSS MB',
    color: C.mem,
    points: r.server.samples.map((s) => [s.t, s.memoryMb]),
  };
  const hasMem = mem.points.some(([, y]) => Number.isFinite(y));
  parts.push(
    section(
      'memory',
      'Server memory over time',
      hasMem
        ? lineChart({
            title: `server memory (from ${r.server.path ?? '?'})`,
            xLabel: 'seconds',
            yLabel: 'MB',
            series: [mem],
          })
        : `<p>Not available: ${esc(r.server.note ?? 'the server exposed no memory figure')}.</p>`,
    ),
  );

  if (r.spike !== undefined) {
    const s = r.spike;
    parts.push(
      section(
        'spike',
        'Spike recovery',
        `<p>Baseline p50 ${n(s.baselineP50)} ms; a window counts as recovered when its p50 ≤ ${n(s.thresholdMs)} ms and its error rate is low. ` +
          (s.recovered
            ? `Recovered <b>${n((s.recoveryMs ?? 0) / 1000, 2)} s</b> after the spike ended.`
            : '<b>Did not recover</b> before the run ended.') +
          '</p>' +
          lineChart({
            title: 'p50 per window after the spike (ms)',
            xLabel: 'seconds after the spike',
            yLabel: 'ms',
            series: [
              { name: 'window p50', color: C.p50, points: s.windows.map((w) => [w.offsetMs / 1000, w.p50]) },
              {
                name: 'threshold',
                color: C.p99,
                points: s.windows.map((w) => [w.offsetMs / 1000, s.thresholdMs]),
              },
            ],
          }),
      ),
    );
  }
  if (r.endurance !== undefined) {
    const e = r.endurance;
    parts.push(
      section(
        'endurance',
        'Endurance',
        tableHtml(
          [
            'p50 drift %',
            'p99 drift %',
            'memory start MB',
            'memory end MB',
            'memory max MB',
            'memory trend MB/min',
          ],
          [
            [
              n(e.driftP50Pct),
              n(e.driftP99Pct),
              n(e.memoryStartMb),
              n(e.memoryEndMb),
              n(e.memoryMaxMb),
              n(e.memorySlopeMbPerMin, 2),
            ],
          ],
        ),
      ),
    );
  }
  if (r.overhead !== undefined) {
    parts.push(
      section(
        'overhead',
        'Gateway overhead vs direct upstream',
        tableHtml(
          [
            'concurrency',
            'gateway p50',
            'gateway p99',
            'direct p50',
            'direct p99',
            'added p50',
            'added p99',
            'gateway ok/s',
            'direct ok/s',
            'throughput ratio',
          ],
          r.overhead.map((o) => [
            String(o.concurrency),
            n(o.gateway.latency.p50, 2),
            n(o.gateway.latency.p99, 2),
            n(o.direct.latency.p50, 2),
            n(o.direct.latency.p99, 2),
            n(o.addedP50Ms, 2),
            n(o.addedP99Ms, 2),
            n(o.gateway.okRps),
            n(o.direct.okRps),
            n(o.throughputRatio, 2),
          ]),
        ),
      ),
    );
  }
  parts.push(
    section(
      'setup',
      'Setup',
      tableHtml(
        ['setting', 'value'],
        [...Object.entries(r.config), ...Object.entries(r.machine)].map(([k, v]) => [
          k,
          typeof v === 'string' ? v : JSON.stringify(v),
        ]),
      ) +
        `<p>Started ${esc(r.startedAt)}, finished ${esc(r.finishedAt)}${r.interrupted ? ' (interrupted)' : ''}.</p>`,
    ),
  );
  // The full report as data, for scripts; "<" is escaped so it cannot close the script element.
  const data = JSON.stringify(r).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`sutazai loadtest ${r.scenario} — ${verdict}`)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1a202c;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #e2e8f0}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #e2e8f0;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.chart{display:block;margin:8px 0;max-width:100%;height:auto}
.ct{font-weight:600;font-size:13px}.ax{font-size:11px;fill:#4a5568}.grid{stroke:#edf2f7}.mark{stroke:#a0aec0;stroke-dasharray:4 3}
.warn{color:#c05621}.pass{color:#2f855a}.fail{color:#c53030}
</style>
</head>
<body>
<h1>sutazai loadtest: ${esc(r.scenario)} <span class="${r.slo.pass ? 'pass' : 'fail'}">${esc(verdict)}</span></h1>
<p>${esc(String(r.config.url))} · target ${esc(String(r.config.target))} · ${esc(String(r.config.loop))} loop · mix ${esc(String(r.config.mix))}. Percentiles are exact (nearest rank over every successful request).</p>
${parts.join('\n')}
<script type="application/json" id="report-data">${data}</script>
</body>
</html>
`;
}
