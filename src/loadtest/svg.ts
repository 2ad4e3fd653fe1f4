/** Minimal inline-SVG charts for the self-contained HTML report (no scripts, no network). */

export function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export interface Series {
  name: string;
  color: string;
  /** [x, y]; a non-finite y breaks the line. */
  points: [number, number][];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Vertical markers, e.g. spike start/end. */
  markers?: { x: number; label: string }[];
  width?: number;
  height?: number;
}

const PAD = { l: 60, r: 16, t: 28, b: 40 };

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return `${(v / 1000).toFixed(v % 1000 === 0 ? 0 : 1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(v < 1 ? 2 : 1);
}

function frame(w: number, h: number, title: string, xLabel: string, yLabel: string, yMax: number): string[] {
  const out: string[] = [];
  const ih = h - PAD.t - PAD.b;
  out.push(`<text x="${PAD.l}" y="16" class="ct">${esc(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = PAD.t + ih - (ih * i) / 4;
    out.push(`<line x1="${PAD.l}" x2="${w - PAD.r}" y1="${y}" y2="${y}" class="grid"/>`);
    out.push(
      `<text x="${PAD.l - 6}" y="${y + 4}" text-anchor="end" class="ax">${fmt((yMax * i) / 4)}</text>`,
    );
  }
  out.push(`<text x="${(w + PAD.l) / 2}" y="${h - 4}" text-anchor="middle" class="ax">${esc(xLabel)}</text>`);
  out.push(
    `<text x="12" y="${PAD.t + ih / 2}" text-anchor="middle" class="ax" transform="rotate(-90 12 ${PAD.t + ih / 2})">${esc(yLabel)}</text>`,
  );
  return out;
}

function legend(series: { name: string; color: string }[], w: number): string {
  return series
    .map((s, i) => {
      const x = w - PAD.r - (series.length - i) * 110;
      return `<rect x="${x}" y="6" width="10" height="10" fill="${s.color}"/><text x="${x + 14}" y="15" class="ax">${esc(s.name)}</text>`;
    })
    .join('');
}

export function lineChart(o: LineChartOptions): string {
  const w = o.width ?? 720;
  const h = o.height ?? 260;
  const all = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = all.map(([x]) => x);
  const xMin = xs.length > 0 ? Math.min(...xs) : 0;
  const xMax = xs.length > 0 ? Math.max(...xs, xMin + 1e-9) : 1;
  const yMax = niceMax(all.length > 0 ? Math.max(...all.map(([, y]) => y)) : 1);
  const iw = w - PAD.l - PAD.r;
  const ih = h - PAD.t - PAD.b;
  const X = (x: number): number => PAD.l + ((x - xMin) / (xMax - xMin || 1)) * iw;
  const Y = (y: number): number => PAD.t + ih - (y / yMax) * ih;
  const out = frame(w, h, o.title, o.xLabel, o.yLabel, yMax);
  for (let i = 0; i <= 4; i++) {
    const xv = xMin + ((xMax - xMin) * i) / 4;
    out.push(
      `<text x="${X(xv).toFixed(1)}" y="${PAD.t + ih + 14}" text-anchor="middle" class="ax">${fmt(Math.round(xv * 10) / 10)}</text>`,
    );
  }
  for (const m of o.markers ?? []) {
    const x = X(m.x).toFixed(1);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${PAD.t}" y2="${PAD.t + ih}" class="mark"/><text x="${x}" y="${PAD.t + 10}" class="ax"> ${esc(m.label)}</text>`,
    );
  }
  const ok = ([x, y]: [number, number] | undefined = [Number.NaN, Number.NaN]): boolean =>
    Number.isFinite(x) && Number.isFinite(y);
  for (const s of o.series) {
    let d = '';
    const dots: string[] = [];
    s.points.forEach((p, i) => {
      if (!ok(p)) return;
      const [px, py] = [X(p[0]).toFixed(1), Y(p[1]).toFixed(1)];
      const joined = ok(s.points[i - 1]);
      d += `${joined ? 'L' : 'M'}${px},${py}`;
      // A point with no finite neighbour would be an invisible path: draw it as a dot.
      if (!joined && !ok(s.points[i + 1]))
        dots.push(`<circle cx="${px}" cy="${py}" r="2.5" fill="${s.color}"/>`);
    });
    if (d !== '') {
      out.push(
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"><title>${esc(s.name)}</title></path>`,
        ...dots,
      );
    }
  }
  out.push(legend(o.series, w));
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(o.title)}">${out.join('')}</svg>`;
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  categories: string[];
  series: { name: string; color: string; values: number[] }[];
  width?: number;
  height?: number;
}

/** Grouped bars: one group per category, one bar per series. */
export function barChart(o: BarChartOptions): string {
  const w = o.width ?? 720;
  const h = o.height ?? 260;
  const vals = o.series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  const yMax = niceMax(vals.length > 0 ? Math.max(...vals) : 1);
  const iw = w - PAD.l - PAD.r;
  const ih = h - PAD.t - PAD.b;
  const out = frame(w, h, o.title, '', o.yLabel, yMax);
  const gw = iw / Math.max(1, o.categories.length);
  const bw = (gw * 0.8) / Math.max(1, o.series.length);
  o.categories.forEach((c, ci) => {
    const gx = PAD.l + ci * gw + gw * 0.1;
    o.series.forEach((s, si) => {
      const v = s.values[ci] ?? Number.NaN;
      if (!Number.isFinite(v)) return;
      const bh = (v / yMax) * ih;
      out.push(
        `<rect x="${(gx + si * bw).toFixed(1)}" y="${(PAD.t + ih - bh).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="${s.color}"><title>${esc(`${c} ${s.name}: ${v.toFixed(2)}`)}</title></rect>`,
      );
    });
    out.push(
      `<text x="${(gx + gw * 0.4).toFixed(1)}" y="${PAD.t + ih + 14}" text-anchor="middle" class="ax">${esc(c)}</text>`,
    );
  });
  out.push(legend(o.series, w));
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(o.title)}">${out.join('')}</svg>`;
}
