import { z } from 'zod';
import { GatewayError } from './catalogue.js';

/*
 * Validation failures as catalogue errors, for every caller that checks input against a zod schema
 * (the HTTP surfaces and the task queue's payloads alike).
 */

/** First zod issue → 400 naming the field, e.g. `messages[0].content: expected string`. */
export function zodToGatewayError(err: z.ZodError, prefix = ''): GatewayError {
  const issue = err.issues[0];
  if (!issue) return new GatewayError('SUTAZAI_ERR_VALIDATION', 'invalid request body');
  const path = formatPath(issue.path, prefix);
  const message = path ? `${path}: ${issue.message}` : issue.message;
  return new GatewayError('SUTAZAI_ERR_VALIDATION', message, path ? { param: path } : {});
}

function formatPath(path: readonly PropertyKey[], prefix: string): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/** Parse `body` with `schema`, throwing a 400 GatewayError naming the first bad field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (body === undefined || body === null) {
    throw new GatewayError('SUTAZAI_ERR_VALIDATION', 'request body is required (JSON object)');
  }
  const r = schema.safeParse(body);
  if (!r.success) throw zodToGatewayError(r.error);
  return r.data;
}
