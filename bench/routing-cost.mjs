// The CPU that routing adds to one generation, measured in process (no network, so it does not
// drown in the noise of a loaded 2-core machine): resolve a model through the catalog (pick among
// upstreams, build the route) and read its chunks through the routed stream, against calling the
// adapter straight, as the pipeline did before routing existed. Fake adapters answer at once with
// `--chunks` chunks. Run `npm run build` first.
//   node bench/routing-cost.mjs [--upstreams 1,2,4] [--chunks 1,64] [--n 200000]
import { parseArgs } from 'node:util';
import { writeFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Member } from '../dist/upstreams/member.js';
import { createModelCatalog } from '../dist/upstreams/registry.js';

const { values } = parseArgs({
  options: {
    upstreams: { type: 'string', default: '1,2,4' },
    chunks: { type: 'string', default: '1,64' },
    n: { type: 'string', default: '200000' },
  },
});
const N = Number(values.n);

function fakeAdapter(id, chunks) {
  const items = Array.from({ length: chunks }, (_, i) =>
    i === chunks - 1 ? { type: 'done', finishReason: 'stop', usage: {} } : { type: 'delta', text: 'x' },
  );
  let inFlight = 0;
  const stream = () => {
    let i = 0;
    inFlight++;
    return {
      next() {
        if (i < items.length) return Promise.resolve({ done: false, value: items[i++] });
        inFlight--;
        return Promise.resolve({ done: true, value: undefined });
      },
      return() {
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  };
  return {
    id,
    kind: 'ollama',
    baseUrl: `http://${id}`,
    config: { id, kind: 'ollama', url: `http://${id}`, connections: 1, slots: 4, weight: 1, timeouts: {} },
    chat: stream,
    generate: stream,
    embed: async () => ({ model: 'm', embeddings: [] }),
    listModels: async () => [{ name: 'm:latest', upstream: id }],
    health: async () => ({ ok: true, latencyMs: 0 }),
    poolStats: () => ({ connected: 0, free: 0, pending: 0, running: 0 }),
    inFlight: () => inFlight,
    close: async () => undefined,
  };
}

const req = { kind: 'chat', model: 'm', messages: [], stream: false };
const signal = new globalThis.AbortController().signal;

async function drain(source) {
  let n = 0;
  for await (const _c of source) n++;
  return n;
}

async function measure(fn) {
  for (let i = 0; i < N / 10; i++) await fn(); // warm up
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e3 / N;
  const c = process.cpuUsage(cpu0);
  return { cpuUs: (c.user + c.system) / N, wallUs: wall };
}

const rows = [];
for (const u of values.upstreams.split(',').map(Number)) {
  for (const chunks of values.chunks.split(',').map(Number)) {
    const adapters = Array.from({ length: u }, (_, i) => fakeAdapter(`u${i}`, chunks));
    const catalog = createModelCatalog({ members: adapters.map((a) => new Member(a)), refreshMs: 60_000 });
    await catalog.list();
    const direct = await measure(() => drain(adapters[0].chat(req, signal)));
    const routed = await measure(async () => drain((await catalog.resolve('m')).chat(req, signal)));
    catalog.close();
    const row = {
      upstreams: u,
      chunks,
      directCpuUs: +direct.cpuUs.toFixed(3),
      routedCpuUs: +routed.cpuUs.toFixed(3),
      addedCpuUs: +(routed.cpuUs - direct.cpuUs).toFixed(3),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
const out = { n: N, loadavg: loadavg(), node: process.version, rows };
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/routing-cost.json', `${JSON.stringify(out, null, 2)}\n`);
console.log(
  `load avg ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
