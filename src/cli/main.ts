#!/usr/bin/env node
import { debugWanted, formatFailure } from './failure.js';
import { VERSION } from '../version.js';

const USAGE = `sutazai ${VERSION} — gateway for local LLM servers

Usage: sutazai <command> [flags]

Commands:
  serve      run the gateway (default port 10010); flags mirror the env vars (see README)
  sim        run the Ollama/OpenAI-compatible simulator (default port 11434)
  demo       start a simulator and a gateway wired together, print curl lines to try
  worker     run background-task consumers only (needs REDIS_URL)
  loadtest   load-test a SutazAI / OpenAI / Ollama server
  monitor    live terminal view of a gateway's metrics and alerts
  keys       API keys: create | list | update | revoke (see \`sutazai keys help\`)
  help       this text
`;

async function main(argv: string[]): Promise<number | undefined> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'serve':
      await (await import('./cluster.js')).runServeCommand(rest);
      return undefined;
    case 'sim':
      await (await import('../sim/cli.js')).runSimCli(rest);
      return undefined;
    case 'demo':
      await (await import('./demo.js')).runDemoCli(rest);
      return undefined;
    case 'worker':
      await (await import('./worker.js')).runWorkerCli(rest);
      return undefined;
    case 'loadtest':
      return (await import('../loadtest/cli.js')).runLoadtestCli(rest);
    case 'keys':
      return (await import('./keys.js')).runKeysCli(rest);
    case 'monitor':
      return (await import('./monitor.js')).runMonitorCli(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case '--version':
    case '-v':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    default:
      process.stderr.write(`unknown command '${cmd}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err: unknown) => {
    // A message and what to do; the stack trace only at debug level.
    process.stderr.write(formatFailure(err, debugWanted(process.argv.slice(2))));
    process.exit(2);
  },
);
