/* global AbortSignal */
// Docker HEALTHCHECK for every role of the image: it reads PID 1's command line to know which.
// serve → GET /ready (200 only when started and not draining); sim → GET /api/version;
// worker, loadtest, monitor → healthy while running (they serve no HTTP).
import { readFileSync } from 'node:fs';

const argv = readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean);
const role = argv.find((a) => ['serve', 'sim', 'worker', 'loadtest', 'monitor', 'demo'].includes(a));
const flag = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};

let path;
let port;
if (role === 'serve' || role === undefined) {
  path = '/ready';
  port = flag('port') ?? process.env.SUTAZAI_PORT ?? '10010';
} else if (role === 'sim') {
  path = '/api/version';
  port = flag('port') ?? '11434';
} else {
  process.exit(0);
}

fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2500) }).then(
  (r) => process.exit(r.ok ? 0 : 1),
  () => process.exit(1),
);
