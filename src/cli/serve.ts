import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { createGateway, type Gateway, type GatewayOptions } from '../gateway/gateway.js';
import { loadConfig, type Config, type ConfigSources } from '../config/config.js';
import { displayUrl } from '../config/upstreams.js';
import { StartupError } from '../errors/startup.js';
import { buildApp } from '../http/build-app.js';
import { installDrain, type Drain } from '../http/drain.js';
import { checkDataDir, lockDataDir } from '../store/data-dir.js';
import { createIpcPeerLink } from '../metrics/peers.js';
import { watchUpstreams } from './upstream-hint.js';

export interface RunningGateway {
  app: FastifyInstance;
  services: Gateway;
  url: string;
  /** Readiness (GET /ready) and the SIGTERM sequence. */
  drain: Drain;
  /** Stop accepting, let in-flight requests finish up to the grace deadline, close pools. */
  close: () => Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel'>) {
  return pino({
    level: config.logLevel,
    base: { svc: 'sutazai' },
    // Prompt text is never logged by default; redact common body fields defensively.
    redact: [
      'req.body',
      'body.message',
      'body.messages',
      'body.prompt',
      'body.prompts',
      'req.headers.authorization',
    ],
  });
}

/** Build services + app and listen. Used by `sutazai serve`, the demo, tests and benchmarks. */
export async function startGateway(config: Config, opts: GatewayOptions = {}): Promise<RunningGateway> {
  const logger = createLogger(config);
  const services = await createGateway(config, logger, opts);
  let app: FastifyInstance;
  let drain: Drain;
  try {
    app = await buildApp(services);
    drain = installDrain(app, { delayMs: config.drainDelayMs, graceMs: config.shutdownGraceMs });
    await app.listen({ host: config.host, port: config.port, backlog: config.listenBacklog });
    // Ready once the first upstream probe round is in (routing knows its upstreams).
    drain.readyWhen(services.health.refresh());
  } catch (err) {
    await services.close();
    throw listenError(err, config);
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    app,
    services,
    drain,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close() {
      closing ??= (async () => {
        try {
          await drain.drain(); // ends with app.close()
        } finally {
          await services.close();
        }
      })();
      return closing;
    },
  };
}

/** A port in use or not ours to take names the setting; anything else passes through. */
function listenError(err: unknown, config: Config): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${config.host}:${config.port}`;
  if (code === 'EADDRINUSE')
    return new StartupError(
      'SUTAZAI_PORT / --port',
      config.port,
      `${where} is already in use`,
      `stop what listens there (another sutazai?) or pick another port: --port ${config.port + 1} (0 = any free port)`,
      { cause: err },
    );
  if (code === 'EACCES')
    return new StartupError(
      'SUTAZAI_PORT / --port',
      config.port,
      `not allowed to listen on ${where}`,
      'use a port above 1023',
      {
        cause: err,
      },
    );
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return new StartupError(
      'SUTAZAI_HOST / --host',
      config.host,
      `no such local address (${code})`,
      'use 127.0.0.1, 0.0.0.0 or an address of this machine',
      {
        cause: err,
      },
    );
  return err;
}

/** Close on the first SIGINT/SIGTERM; a second signal exits at once. */
export function closeOnSignals(close: () => Promise<void>, log: (msg: string) => void) {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) {
      log(`${sig} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log(`${sig}: shutting down gracefully`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export async function runServeCli(
  argv: string[],
  sources: Omit<ConfigSources, 'argv'> = {},
  mode: { worker?: boolean } = {},
): Promise<void> {
  const config = loadConfig({ env: process.env, ...sources, argv });
  // Embedded storage (no DATABASE_URL) is this process's alone: a second `serve` on the same data
  // dir refuses to start, naming the directory and the process holding it (issue 23, finding 6).
  if (config.databaseUrl === undefined) await checkDataDir(config.dataDir);
  const lock = config.databaseUrl === undefined ? lockDataDir(config.dataDir) : undefined;
  // A worker of `serve --processes N` (src/cli/cluster.ts): its stats cover the other workers too.
  const peers = mode.worker ? createIpcPeerLink() : undefined;
  let gw: RunningGateway;
  try {
    gw = await startGateway(config, peers ? { peers } : {});
  } catch (err) {
    lock?.release();
    peers?.close();
    throw err;
  }
  gw.app.log.info(
    { url: gw.url, upstreams: config.upstreams.map((u) => `${u.kind}=${displayUrl(u.url)}`) },
    `SutazAI listening on ${gw.url}`,
  );
  const hint = watchUpstreams({ health: gw.services.health, log: gw.app.log });
  const close = async () => {
    hint.close();
    peers?.close();
    await gw.close();
    lock?.release();
  };
  closeOnSignals(close, (m) => gw.app.log.info(m));
  if (mode.worker) {
    // The primary asks for a graceful stop over IPC; if the primary itself is gone, stop too.
    const stop = () => {
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('message', (m: unknown) => {
      if ((m as { sutazai?: unknown } | null)?.sutazai === 'shutdown') stop();
    });
    process.once('disconnect', stop);
  }
}
