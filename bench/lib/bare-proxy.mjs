// The floor for any Node.js proxy: node:http in, one undici keep-alive Pool out, bytes passed
// through untouched (streamed as they arrive). No validation, no mapping, no metrics, no error
// handling worth the name. Benchmarks run it beside the gateway so "what the gateway adds" can be
// split into what any Node proxy costs on this machine and what our features cost on top.
// Env: UPSTREAM (origin URL), PORT, CONNECTIONS (pool size, default 256).
import { Buffer } from 'node:buffer';
import http from 'node:http';
import { Pool } from 'undici';

const pool = new Pool(process.env.UPSTREAM, { connections: Number(process.env.CONNECTIONS ?? 256) });
const server = http.createServer((req, res) => {
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', async () => {
    try {
      const up = await pool.request({
        method: req.method,
        path: req.url,
        headers: { 'content-type': 'application/json' },
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(parts),
      });
      res.writeHead(up.statusCode, { 'content-type': up.headers['content-type'] ?? 'application/json' });
      for await (const chunk of up.body) res.write(chunk);
      res.end();
    } catch (err) {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    }
  });
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
// Exit normally on SIGTERM so `--cpu-prof` (bench/profile.mjs --target proxy) writes its profile.
process.on('SIGTERM', () => process.exit(0));
