import { parseArgs } from 'node:util';
import { startSimulator } from './server.js';
import type { SimStartOptions } from './options.js';
import type { SimFaults, SimOptions } from './types.js';

const USAGE = `Usage: sutazai sim [flags]
  --host H                 listen address (default 127.0.0.1)
  --port N                 listen port (default 11434; 0 = any free port)
  --models a,b             chat/generate models served
  --embed-models x,y       embedding models served
  --tps N                  tokens per second per stream (0 = as fast as possible)
  --ttft-ms N              delay before the first token, ms
  --parallel N             concurrent generation slots
  --max-queue N            waiting requests beyond which the sim answers 503
  --seed N                 seed for deterministic text
  --tokens N               completion length when the request sets no limit
  --error-rate p           probability of HTTP 500 before any byte
  --mid-stream-error-rate p  probability of an error part-way through a stream
  --stall-rate p           probability a stream stops part-way (connection kept open)
  --slow-headers-ms N      delay before response headers, ms`;

const FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  models: { type: 'string' },
  'embed-models': { type: 'string' },
  tps: { type: 'string' },
  'ttft-ms': { type: 'string' },
  parallel: { type: 'string' },
  'max-queue': { type: 'string' },
  seed: { type: 'string' },
  tokens: { type: 'string' },
  'error-rate': { type: 'string' },
  'mid-stream-error-rate': { type: 'string' },
  'stall-rate': { type: 'string' },
  'slow-headers-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A bad `sutazai sim` flag; the message names the flag (callers print just the message). */
export class SimCliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimCliError';
  }
}

type Kind = 'int' | 'count' | 'posint' | 'number' | 'rate' | 'port';

const WANT: Record<Kind, string> = {
  int: 'an integer',
  count: 'an integer >= 0',
  posint: 'an integer >= 1',
  number: 'a number >= 0',
  rate: 'a probability between 0 and 1',
  port: 'a port number 0-65535',
};

function valid(v: number, kind: Kind): boolean {
  if (!Number.isFinite(v)) return false;
  switch (kind) {
    case 'number':
      return v >= 0;
    case 'rate':
      return v >= 0 && v <= 1;
    case 'int':
      return Number.isInteger(v);
    case 'count':
      return Number.isInteger(v) && v >= 0;
    case 'posint':
      return Number.isInteger(v) && v >= 1;
    case 'port':
      return Number.isInteger(v) && v >= 0 && v <= 65535;
  }
}

function num(flag: string, raw: string, kind: Kind): number {
  const v = Number(raw);
  if (raw.trim() === '' || !valid(v, kind))
    throw new SimCliError(`--${flag} must be ${WANT[kind]}, got "${raw}"`);
  return v;
}

function list(flag: string, raw: string): string[] {
  const names = raw.split(',').map((s) => s.trim());
  if (names.some((s) => s === ''))
    throw new SimCliError(`--${flag} must be a comma-separated list of names, got "${raw}"`);
  return names;
}

export interface SimCliArgs {
  help: boolean;
  options: SimStartOptions;
}

/** Parse `sutazai sim` flags (port defaults to 11434, like Ollama). Throws an Error naming the bad flag. */
export function parseSimArgs(argv: string[]): SimCliArgs {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new SimCliError((err as Error).message);
  }
  const o: SimStartOptions = { port: 11434 };
  const n = (flag: keyof typeof FLAGS, kind: Kind): number | undefined => {
    const raw = values[flag];
    return typeof raw === 'string' ? num(flag, raw, kind) : undefined;
  };
  if (values.host !== undefined) {
    if (values.host.trim() === '') throw new SimCliError('--host must not be empty');
    o.host = values.host;
  }
  const set = <K extends keyof SimOptions>(key: K, v: SimStartOptions[K] | undefined): void => {
    if (v !== undefined) o[key] = v;
  };
  set('port', n('port', 'port'));
  if (values.models !== undefined) o.models = list('models', values.models);
  if (values['embed-models'] !== undefined) o.embedModels = list('embed-models', values['embed-models']);
  set('tps', n('tps', 'number'));
  set('ttftMs', n('ttft-ms', 'count'));
  set('parallel', n('parallel', 'posint'));
  set('maxQueue', n('max-queue', 'count'));
  set('seed', n('seed', 'int'));
  set('defaultTokens', n('tokens', 'count'));
  const faults: Partial<SimFaults> = {};
  const f = <K extends keyof SimFaults>(key: K, v: number | undefined): void => {
    if (v !== undefined) faults[key] = v;
  };
  f('errorRate', n('error-rate', 'rate'));
  f('midStreamErrorRate', n('mid-stream-error-rate', 'rate'));
  f('stallRate', n('stall-rate', 'rate'));
  f('slowHeadersMs', n('slow-headers-ms', 'count'));
  if (Object.keys(faults).length > 0) o.faults = faults;
  return { help: values.help === true, options: o };
}

/** Where the CLI writes and what stops it; tests pass their own. */
export interface SimCliIo {
  out: (line: string) => void;
  /** Aborting stops the simulator; default: SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

/**
 * `sutazai sim`: parse flags (argv = the flags after `sim`), start the simulator, print its URL,
 * and resolve once it has been closed by SIGINT/SIGTERM (or io.signal).
 */
export async function runSimCli(
  argv: string[],
  io: SimCliIo = { out: (l) => console.log(l) },
): Promise<void> {
  const args = parseSimArgs(argv);
  if (args.help) {
    io.out(USAGE);
    return;
  }
  const sim = await startSimulator(args.options);
  io.out(`SutazAI simulator listening on ${sim.url}`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.signal?.removeEventListener('abort', stop);
      resolve();
    };
    if (io.signal !== undefined) {
      if (io.signal.aborted) stop();
      else io.signal.addEventListener('abort', stop, { once: true });
    } else {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
  });
  await sim.close();
  io.out('SutazAI simulator stopped');
}
