// The floor for any process in the path: a TCP relay that copies bytes both ways (no HTTP
// parsing at all). Benchmarks run it beside the bare proxy and the gateway so the latency of one
// extra process hop on this machine (two more wake-ups, two more loopback copies) is measured in
// the same run, apart from what HTTP handling adds.
// Env: UPSTREAM (origin URL), PORT.
import net from 'node:net';

const up = new URL(process.env.UPSTREAM);
const server = net.createServer((client) => {
  client.setNoDelay(true);
  const upstream = net.connect(Number(up.port), up.hostname);
  upstream.setNoDelay(true);
  client.pipe(upstream);
  upstream.pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close).on('close', close);
  upstream.on('error', close).on('close', close);
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
