import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString } from 'pino';

type Log = (...args: unknown[]) => void;
const call = (fn: unknown, self: FastifyBaseLogger, args: unknown[]): void => (fn as Log).apply(self, args);

/**
 * Fastify gives every request a child logger (`req.log`) bound to its request id. pino's child()
 * copies the bindings and sets up every level method, per request, and almost no request logs
 * (access lines are at debug, see build-app.ts). This one stands in for the child and makes it on the
 * first log call, so a request that logs nothing costs one small object.
 */
class LazyChildLogger {
  private made: FastifyBaseLogger | undefined = undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly opts: ChildLoggerOptions,
  ) {}

  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.opts));
  }

  get level(): LevelWithSilentOrString {
    return this.made?.level ?? this.opts.level ?? this.parent.level;
  }
  set level(level: LevelWithSilentOrString) {
    this.real.level = level;
  }

  fatal(...args: unknown[]): void {
    call(this.real.fatal, this.real, args);
  }
  error(...args: unknown[]): void {
    call(this.real.error, this.real, args);
  }
  warn(...args: unknown[]): void {
    call(this.real.warn, this.real, args);
  }
  info(...args: unknown[]): void {
    call(this.real.info, this.real, args);
  }
  debug(...args: unknown[]): void {
    call(this.real.debug, this.real, args);
  }
  trace(...args: unknown[]): void {
    call(this.real.trace, this.real, args);
  }
  silent(): void {}

  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, opts);
  }
}

/** Fastify's `childLoggerFactory`: a request logger that makes its pino child only when used. */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  opts: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, opts);
}
