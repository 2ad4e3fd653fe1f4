import { ConfigError, loadConfig } from '../../src/config/config.js';
import { FIELDS } from '../../src/config/fields.js';

const KNOWN = new Set<string>(Object.values(FIELDS).map((f) => f.env));
const COMMANDS = new Set(['serve', 'worker', 'sim', 'loadtest', 'monitor', 'demo']);

/**
 * Problems with the environment and arguments a SutazAI container is given: variable names the
 * gateway does not know (a typo is silently ignored at run time) and values the config schema
 * rejects, by running the real config loader on them, as the container would at start.
 */
export function checkSutazaiProcess(where: string, env: Record<string, string>, args: string[]): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(env)) {
    if (!KNOWN.has(name)) problems.push(`${where}: unknown variable ${name} (not in src/config/fields.ts)`);
  }
  const [command = 'serve', ...flags] = args;
  if (!COMMANDS.has(command)) return [...problems, `${where}: unknown command '${command}'`];
  if (command !== 'serve' && command !== 'worker') return problems;
  try {
    const config = loadConfig({ env, argv: flags });
    if (command === 'worker') {
      if (!config.redisUrl) problems.push(`${where}: a worker needs REDIS_URL`);
      if (!config.databaseUrl) problems.push(`${where}: a worker needs DATABASE_URL`);
      if (config.taskConcurrency < 1) problems.push(`${where}: a worker needs SUTAZAI_TASK_CONCURRENCY >= 1`);
    }
    if (config.host === '127.0.0.1' && command === 'serve')
      problems.push(`${where}: SUTAZAI_HOST is loopback; nothing outside the container can reach it`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(`${where}: ${err.message.replace(/\n/g, '; ')}`);
  }
  return problems;
}

/** Grace the orchestrator must allow on SIGTERM: drain delay + shutdown grace (ms). */
export function shutdownBudgetMs(env: Record<string, string>): number {
  const config = loadConfig({ env });
  return config.drainDelayMs + config.shutdownGraceMs;
}
