import { ConfigError } from '../config/config.js';
import { describeError, StartupError } from '../errors/startup.js';

/** `--log-level debug|trace` or SUTAZAI_LOG_LEVEL=debug|trace: the one case a stack trace is printed. */
export function debugWanted(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const i = argv.findIndex((a) => a === '--log-level' || a.startsWith('--log-level='));
  const level = i < 0 ? env.SUTAZAI_LOG_LEVEL : (argv[i]?.split('=')[1] ?? argv[i + 1]);
  return level === 'debug' || level === 'trace';
}

/**
 * What `sutazai` prints when a command fails: the problem and what to do, in one or two lines
 * for the failures a newcomer meets (bad settings, busy port, unreachable database or Redis).
 */
export function formatFailure(err: unknown, debug: boolean): string {
  let text: string;
  if (err instanceof StartupError) text = `sutazai: ${err.message}\n  → ${err.fix}`;
  else if (err instanceof ConfigError || (err instanceof Error && /CliError$/.test(err.name)))
    text = `sutazai: ${err.message}`;
  else
    text = `sutazai: ${describeError(err)}${debug ? '' : '\n  (--log-level debug prints the stack trace)'}`;
  if (debug && err instanceof Error && err.stack) text += `\n${err.stack}`;
  return `${text}\n`;
}
