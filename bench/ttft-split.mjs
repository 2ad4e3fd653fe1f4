#!/usr/bin/env node
// Where added time to first token goes at concurrency 1: the request path (client sends → the
// upstream has the request) and the response path (the upstream writes its first token → the
// client reads it), for direct, the TCP relay, the bare proxy and the gateway, one request at a
// time, the sides interleaved request by request.
// The upstream is a tiny Ollama-shaped mock in a child process (this file with `mock`): it stamps
// when a request arrives and when it writes the first token, with process.hrtime (CLOCK_MONOTONIC,
// the same clock in every process on the machine), and reports both over IPC. It answers
// /api/chat with a first token after --ttft-ms and the done line 20 ms later.
// Every side but the relay first serves --warmup requests at concurrency 64 (as in ttft.mjs: V8
// optimises the request path only after a few thousand requests; --warmup 0 for a fresh process).
// Usage: npm run build && node bench/ttft-split.mjs [--requests 300] [--ttft-ms 5] [--idle-ms 10]
//        [--warmup 3000]
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { finishMachine, machineInfo } from './lib/machine.mjs';
import { startBareProxy, startGateway, startTcpRelay } from './lib/procs.mjs';

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
/** A streamed Ollama chat request with `content` as its prompt. */
const postChat = (pool, content) =>
  pool.request({
    method: 'POST',
    path: '/api/chat',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tinyllama', messages: [{ role: 'user', content }], stream: true }),
  });
const line = (o) => `${JSON.stringify({ model: 'tinyllama', created_at: new Date().toISOString(), ...o })}\n`;

if (process.argv[2] === 'mock') {
  const ttftMs = Number(process.argv[3]);
  const srv = http.createServer((req, res) => {
    const arrived = nowMs();
    req.resume();
    req.on('end', () => {
      if (req.url !== '/api/chat') {
        // /api/tags, /api/version, /: enough for the gateway's catalog and health probes.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            models: [{ name: 'tinyllama:latest', model: 'tinyllama:latest' }],
            version: '0.5.0',
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      setTimeout(() => {
        const wrote = nowMs();
        res.write(line({ message: { role: 'assistant', content: 'Hi' }, done: false }));
        process.send({ arrived, wrote });
        setTimeout(() => {
          res.end(
            line({
              message: { role: 'assistant', content: '' },
              done: true,
              done_reason: 'stop',
              prompt_eval_count: 3,
              eval_count: 1,
            }),
          );
        }, 20);
      }, ttftMs);
    });
  });
  srv.listen(0, '127.0.0.1', () => process.send({ port: srv.address().port }));
} else {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '300' },
      'ttft-ms': { type: 'string', default: '5' },
      'idle-ms': { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3000' },
    },
  });
  const requests = Number(values.requests);
  const warmup = Math.min(30, Math.floor(requests / 10));
  const machine = machineInfo();
  const mock = fork(fileURLToPath(import.meta.url), ['mock', values['ttft-ms']]);
  const { port } = await new Promise((r) => mock.once('message', r));
  const upstream = `http://127.0.0.1:${port}`;
  const gw = await startGateway(`ollama=${upstream}`, {
    SUTAZAI_CACHE_MODE: 'off',
    REDIS_URL: '',
    DATABASE_URL: '',
  });
  const relay = await startTcpRelay(upstream);
  const proxy = await startBareProxy(upstream);
  const urls = { direct: upstream, relay: relay.url, proxy: proxy.url, gateway: gw.url };
  const pools = Object.fromEntries(
    Object.entries(urls).map(([k, u]) => [k, new Pool(u, { connections: 1 })]),
  );
  // Warm-up: the mock reports every request over IPC; count them so none is mistaken for a stamp below.
  const warmups = Number(values.warmup);
  if (warmups > 0) {
    const warmed = Object.keys(urls).filter((k) => k !== 'relay');
    let reported = 0;
    const count = () => reported++;
    mock.on('message', count);
    for (const side of warmed) {
      const pool = new Pool(urls[side], { connections: 64 });
      let left = warmups;
      const one = async () => {
        while (left-- > 0) {
          const res = await postChat(pool, `w ${left}`);
          for await (const _ of res.body);
        }
      };
      await Promise.all(Array.from({ length: 64 }, one));
      await pool.close();
    }
    while (reported < warmups * warmed.length) await new Promise((r) => setTimeout(r, 20));
    mock.off('message', count);
  }
  const samples = Object.fromEntries(
    Object.keys(urls).map((k) => [k, { request: [], response: [], ttft: [] }]),
  );
  try {
    for (let i = 0; i < requests; i++) {
      for (const side of Object.keys(urls)) {
        const stamps = new Promise((r) => mock.once('message', r));
        const t0 = nowMs();
        const res = await postChat(pools[side], `q ${i}`);
        let first;
        for await (const _ of res.body) first ??= nowMs();
        const { arrived, wrote } = await stamps;
        if (res.statusCode !== 200) throw new Error(`${side}: HTTP ${res.statusCode}`);
        if (i >= warmup) {
          samples[side].request.push(arrived - t0);
          samples[side].response.push(first - wrote);
          samples[side].ttft.push(first - t0);
        }
        // Idle between requests, as at concurrency 1 with users thinking: processes go back to sleep.
        await new Promise((r) => setTimeout(r, Number(values['idle-ms'])));
      }
    }
  } finally {
    for (const p of Object.values(pools)) await p.close();
    await gw.stop();
    await relay.stop();
    await proxy.stop();
    mock.kill();
  }
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const d = samples.direct;
  console.log(
    `TTFT split at concurrency 1, ${requests - warmup} requests per side after ${warmups} warm-up requests (medians, ms; added = side − direct)`,
  );
  console.log('side      request path (added)   response path (added)   ttft (added)');
  for (const [side, s] of Object.entries(samples)) {
    const cell = (k) => `${median(s[k]).toFixed(3)} (${(median(s[k]) - median(d[k])).toFixed(3)})`.padEnd(24);
    console.log(`${side.padEnd(9)} ${cell('request')} ${cell('response')} ${cell('ttft')}`.trimEnd());
  }
  console.log(finishMachine(machine));
}
