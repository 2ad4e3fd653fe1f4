import { errors } from '../errors/catalogue.js';

/**
 * Every request field is either carried (or, for a few bookkeeping fields, accepted with no
 * effect on the answer) or refused by name: a field the gateway would silently drop makes a client
 * believe it got what it asked for (issue 22 item 6). `known` lists a route's accepted fields.
 */
export function refuseUnknownFields(body: unknown, known: ReadonlySet<string>): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  for (const key in body) {
    if (!known.has(key) && (body as Record<string, unknown>)[key] !== undefined) {
      throw errors.validation(`Unrecognized request argument supplied: ${key}`, key);
    }
  }
}
