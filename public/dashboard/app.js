/* global uPlot */
// SutazAI dashboard: reads only the public HTTP API (GET /api/v1/metrics/stream, GET /api/v1/alerts,
// GET /api/v1/usage). With API keys on, the key typed in the header is kept in this browser's
// localStorage and sent as `Authorization: Bearer` (the stream is then read with fetch, since
// EventSource cannot send headers).
(function () {
  'use strict';

  const MAX_POINTS = 300; // 5 minutes at one event per second
  const $ = (id) => document.getElementById(id);

  const data = { t: [], rps: [], p50: [], p95: [], p99: [], err: [], hit: [], queue: [], tps: [] };
  let samples = 0;

  const fmt = {
    num: (v, d = 1) => (v === null || v === undefined ? '–' : Number(v).toFixed(d)),
    ms: (v) =>
      v === null || v === undefined ? '–' : v >= 1000 ? (v / 1000).toFixed(2) + ' s' : v.toFixed(1) + ' ms',
    pct: (v) => (v === null || v === undefined ? '–' : (v * 100).toFixed(v < 0.1 ? 2 : 1) + ' %'),
    mb: (b) => (b / 1048576).toFixed(0) + ' MB',
  };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function chart(id, series) {
    const target = $(id);
    const opts = {
      width: Math.max(300, target.clientWidth || 400),
      height: 170,
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.15)] } },
      axes: [{}, { size: 50 }],
      series: [{}].concat(
        series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, spanGaps: false })),
      ),
    };
    const keys = series.map((s) => s.key);
    const plot = new uPlot(opts, [data.t].concat(keys.map((k) => data[k])), target);
    return { plot, keys, target };
  }

  const charts = [
    chart('c-rps', [{ key: 'rps', label: 'rps', color: '#2563eb' }]),
    chart('c-lat', [
      { key: 'p50', label: 'p50', color: '#16a34a' },
      { key: 'p95', label: 'p95', color: '#d97706' },
      { key: 'p99', label: 'p99', color: '#dc2626' },
    ]),
    chart('c-err', [{ key: 'err', label: 'error %', color: '#dc2626' }]),
    chart('c-hit', [{ key: 'hit', label: 'hit %', color: '#7c3aed' }]),
    chart('c-queue', [{ key: 'queue', label: 'depth', color: '#0891b2' }]),
    chart('c-tps', [{ key: 'tps', label: 'tokens/s', color: '#db2777' }]),
  ];

  function redraw() {
    for (const c of charts) c.plot.setData([data.t].concat(c.keys.map((k) => data[k])));
  }

  window.addEventListener('resize', () => {
    for (const c of charts) c.plot.setSize({ width: Math.max(300, c.target.clientWidth), height: 170 });
  });

  function push(key, v) {
    data[key].push(v === undefined ? null : v);
    if (data[key].length > MAX_POINTS) data[key].shift();
  }

  function renderAlerts(active) {
    const ul = $('alerts');
    ul.replaceChildren();
    if (!active.length) {
      ul.append(el('li', 'muted', 'no active alerts'));
      return;
    }
    for (const a of active) {
      const li = el('li', 'alert ' + a.severity);
      li.dataset.rule = a.rule;
      li.append(el('b', '', a.severity.toUpperCase() + ' '), el('span', '', a.message));
      li.append(el('span', 'muted', ' — since ' + new Date(a.since).toLocaleTimeString()));
      ul.append(li);
    }
  }

  function renderUpstreams(ups) {
    const tb = document.querySelector('#upstreams tbody');
    tb.replaceChildren();
    for (const u of ups) {
      const tr = el('tr');
      tr.append(el('td', '', u.id), el('td', '', u.kind));
      const h = el('td', u.status, u.status);
      if (u.error) h.title = u.error;
      tr.append(h, el('td', '', fmt.ms(u.probe_latency_ms)), el('td', '', String(u.in_flight)));
      const p = u.pool;
      tr.append(el('td', '', `${p.connected} / ${p.free} / ${p.pending} / ${p.running}`));
      tr.append(
        el('td', '', String(u.last_1m.requests)),
        el('td', '', String(u.last_1m.errors)),
        el('td', '', fmt.ms(u.last_1m.p95_ms)),
      );
      tb.append(tr);
    }
  }

  function renderWindows(tr) {
    const tb = document.querySelector('#windows tbody');
    tb.replaceChildren();
    const rows = [['last 100', tr.last_100]].concat(Object.entries(tr.windows));
    for (const [name, w] of rows) {
      const row = el('tr');
      row.append(
        el('td', '', name),
        el('td', '', String(w.requests)),
        el('td', '', w.rps === undefined ? '–' : fmt.num(w.rps)),
        el('td', '', fmt.pct(w.error_rate)),
        el('td', '', fmt.ms(w.p50_ms)),
        el('td', '', fmt.ms(w.p95_ms)),
        el('td', '', fmt.ms(w.p99_ms)),
        el('td', '', w.cache ? fmt.pct(w.cache.hit_rate) : '–'),
        el('td', '', w.tokens_per_s === undefined ? '–' : fmt.num(w.tokens_per_s)),
      );
      tb.append(row);
    }
    $('excluded').textContent = 'Not counted as traffic (monitoring polls): ' + tr.excluded_routes.join(', ');
  }

  function onMetrics(v) {
    const w10 = v.traffic.windows['10s'];
    const w1m = v.traffic.windows['1m'];
    const q = v.queue && typeof v.queue.depth === 'number' ? v.queue.depth : null;
    data.t.push(Date.parse(v.timestamp) / 1000);
    if (data.t.length > MAX_POINTS) data.t.shift();
    push('rps', w10.rps);
    push('p50', w10.p50_ms);
    push('p95', w10.p95_ms);
    push('p99', w10.p99_ms);
    push('err', w10.error_rate === null ? null : w10.error_rate * 100);
    push('hit', w10.cache.hit_rate === null ? null : w10.cache.hit_rate * 100);
    push('queue', q);
    push('tps', w10.tokens_per_s);
    redraw();
    samples++;
    document.body.dataset.samples = String(samples);

    const status = $('status');
    status.className = 'pill ' + v.status;
    status.textContent = v.status;
    $('updated').textContent = 'updated ' + new Date(v.timestamp).toLocaleTimeString();
    $('scope').textContent = v.scope === 'cluster' ? `${v.processes.length} processes` : '1 process';
    $('t-rps').textContent = fmt.num(w10.rps);
    $('t-p95').textContent = fmt.ms(w10.p95_ms);
    $('t-err').textContent = fmt.pct(w10.error_rate);
    $('t-hit').textContent = fmt.pct(w1m.cache.hit_rate);
    $('t-tps').textContent = fmt.num(w10.tokens_per_s);
    $('t-queue').textContent = q === null ? '–' : String(q);
    const s = v.system;
    $('t-cpu').textContent = `${fmt.num(s.cpu_percent, 0)}% / ${fmt.num(s.host_cpu_percent, 0)}%`;
    $('t-mem').textContent = `${fmt.mb(s.memory.rss_bytes)} / ${fmt.num(s.memory.percent, 0)}%`;
    $('t-lag').textContent = fmt.ms(s.event_loop.lag_p99_ms);
    renderAlerts(v.alerts.active);
    renderUpstreams(v.upstreams);
    renderWindows(v.traffic);
  }

  const KEY_ITEM = 'sutazai.apiKey';
  let apiKey = window.localStorage.getItem(KEY_ITEM) || '';
  const authHeaders = () => (apiKey ? { authorization: 'Bearer ' + apiKey } : {});

  function renderUsage(rows) {
    const tb = document.querySelector('#usage tbody');
    tb.replaceChildren();
    for (const r of rows) {
      const tr = el('tr');
      tr.append(
        el('td', '', r.key === null ? '(anonymous)' : r.key),
        el('td', '', String(r.requests)),
        el('td', '', String(r.errors)),
        el('td', '', String(r.prompt_tokens)),
        el('td', '', String(r.completion_tokens)),
        el('td', '', String(r.cache_hits)),
        el('td', '', fmt.ms(r.avg_latency_ms)),
        el('td', '', fmt.ms(r.avg_ttft_ms)),
      );
      tb.append(tr);
    }
  }

  async function loadUsage() {
    const note = $('usage-note');
    try {
      const since = new Date(Date.now() - 86400000).toISOString();
      const res = await fetch('/api/v1/usage?group_by=key&since=' + encodeURIComponent(since), {
        cache: 'no-store',
        headers: authHeaders(),
      });
      if (res.status === 404) {
        note.textContent = 'The usage log is off (SUTAZAI_USAGE_LOG).';
        renderUsage([]);
        return;
      }
      if (res.status === 401 || res.status === 403) {
        note.textContent = 'Enter an API key above to see usage (the admin key shows every key).';
        renderUsage([]);
        return;
      }
      if (!res.ok) {
        note.textContent = 'usage unavailable (' + res.status + ')';
        return;
      }
      const body = await res.json();
      note.textContent = body.rows.length ? '' : 'no requests in the last 24 h';
      renderUsage(body.rows);
    } catch {
      note.textContent = 'usage unavailable';
    }
  }

  async function loadHistory() {
    try {
      const res = await fetch('/api/v1/alerts', { cache: 'no-store', headers: authHeaders() });
      if (!res.ok) return;
      const body = await res.json();
      const ul = $('history');
      ul.replaceChildren();
      for (const e of body.history.slice(0, 20)) {
        ul.append(el('li', '', `${new Date(e.at).toLocaleTimeString()} ${e.kind} ${e.to}: ${e.message}`));
      }
    } catch {
      // The stream shows the connection state; history is best effort.
    }
  }

  function noData() {
    $('conn').textContent = 'reconnecting…';
    const status = $('status');
    status.className = 'pill unknown';
    status.textContent = 'no data';
  }

  /** The metrics stream read with fetch, so the API key can go in a header. */
  async function connectWithKey() {
    for (;;) {
      try {
        const res = await fetch('/api/v1/metrics/stream', { headers: authHeaders() });
        if (!res.ok) throw new Error(String(res.status));
        $('conn').textContent = 'live';
        const reader = res.body.pipeThrough(new window.TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = 'message';
            let dataText = '';
            for (const line of frame.split('\n')) {
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) dataText += line.slice(5).trim();
            }
            if (event === 'metrics' && dataText) onMetrics(JSON.parse(dataText));
          }
        }
      } catch {
        // fall through to the retry below
      }
      noData();
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  function connect() {
    if (apiKey) return void connectWithKey();
    const es = new EventSource('/api/v1/metrics/stream');
    es.addEventListener('open', () => {
      $('conn').textContent = 'live';
    });
    es.addEventListener('metrics', (ev) => onMetrics(JSON.parse(ev.data)));
    es.addEventListener('error', () => {
      // EventSource reconnects by itself (retry: 2000); say so instead of showing stale numbers as live.
      $('conn').textContent = 'reconnecting…';
      const status = $('status');
      status.className = 'pill unknown';
      status.textContent = 'no data';
    });
  }

  $('key').value = apiKey;
  $('key-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    apiKey = $('key').value.trim();
    if (apiKey) window.localStorage.setItem(KEY_ITEM, apiKey);
    else window.localStorage.removeItem(KEY_ITEM);
    window.location.reload();
  });

  connect();
  void loadHistory();
  void loadUsage();
  setInterval(loadHistory, 5000);
  setInterval(loadUsage, 10000);
})();
