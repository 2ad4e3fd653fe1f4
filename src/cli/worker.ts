import os from 'node:os';
import { createGateway } from '../gateway/gateway.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { closeOnSignals, createLogger } from './serve.js';

/**
 * `sutazai worker`: background-task consumers only, no HTTP. Any number of these may run on any
 * number of machines against the same Redis and PostgreSQL. SIGTERM/SIGINT = graceful: stop
 * taking jobs, let active ones finish until SUTAZAI_SHUTDOWN_GRACE_MS, hand the rest back.
 */
export async function runWorkerCli(argv: string[]): Promise<void> {
  const config = loadConfig({ env: process.env, argv });
  const problems: string[] = [];
  if (!config.redisUrl)
    problems.push('REDIS_URL / --redis-url: required by `sutazai worker` (the queue lives in Redis)');
  if (!config.databaseUrl) {
    problems.push(
      'DATABASE_URL / --database-url: required by `sutazai worker` (results must land in a store every process can read; the embedded store is private to one process)',
    );
  }
  if (config.taskConcurrency < 1)
    problems.push('SUTAZAI_TASK_CONCURRENCY / --task-concurrency: must be at least 1 for a worker');
  if (problems.length > 0) throw new ConfigError(problems);

  const logger = createLogger(config);
  // Background work yields the CPU to interactive requests. Workers beside a gateway on 2 cores
  // (bench/tasks.mjs): POST /api/v1/tasks p99 19 ms at nice 0 → 9 ms at nice 10 (2 workers);
  // 16 ms at nice 10 → 10 ms at nice 19 (4 workers), for ~6 % less task throughput. On a machine
  // of their own, workers lose nothing: niceness only matters when something else wants the CPU.
  try {
    if (os.getPriority() !== config.workerNice) os.setPriority(config.workerNice);
  } catch (err) {
    logger.warn({ err, nice: config.workerNice }, 'could not set the worker CPU priority; running unchanged');
  }
  // The same services as `serve` (so tasks run through the same pipeline stages), without HTTP.
  const services = await createGateway(config, logger);
  logger.info(
    { concurrency: config.taskConcurrency, pid: process.pid, nice: os.getPriority() },
    'sutazai worker consuming background tasks',
  );
  closeOnSignals(
    () => services.close(),
    (m) => logger.info(m),
  );
}
