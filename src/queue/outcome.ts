import { isGatewayError, type ErrorCode } from '../errors/catalogue.js';
import type { TaskErrorInfo } from './types.js';

/**
 * Failures worth another attempt: the upstream was unreachable, busy, slow or broke mid-answer,
 * or the gateway was overloaded or shutting down. Everything else (validation, unknown model,
 * bad upstream payload, bugs) fails at once: retrying would give the same answer.
 */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'SUTAZAI_ERR_UPSTREAM_UNAVAILABLE',
  'SUTAZAI_ERR_UPSTREAM_BUSY',
  'SUTAZAI_ERR_UPSTREAM_TIMEOUT',
  'SUTAZAI_ERR_UPSTREAM_ERROR',
  'SUTAZAI_ERR_OVERLOADED',
  'SUTAZAI_ERR_SHUTTING_DOWN',
]);

/** The one place that decides whether a task failure is retried, and what the client sees. */
export function classifyError(err: unknown): { retryable: boolean; error: TaskErrorInfo } {
  if (isGatewayError(err)) {
    // A whole-call limit (SUTAZAI_TIMEOUT_MS) cut an answer that was merely long: another attempt
    // would be cut the same way. Time-to-first-token and inter-token timeouts stay transient.
    const merelyLong = err.code === 'SUTAZAI_ERR_UPSTREAM_TIMEOUT' && err.message.endsWith('(total)');
    return {
      retryable: TRANSIENT.has(err.code) && !merelyLong,
      error: { code: err.code, message: err.publicMessage },
    };
  }
  return {
    retryable: false,
    error: { code: 'SUTAZAI_ERR_INTERNAL', message: 'internal error while running the task' },
  };
}

export const SHUTDOWN_ERROR: TaskErrorInfo = {
  code: 'SUTAZAI_ERR_SHUTTING_DOWN',
  message: 'the gateway shut down before the task could run (in-process queue is not durable)',
};
