import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/catalogue.js';
import { errorHeaders } from '../../src/http/errors.js';

describe('Retry-After headers of a 503', () => {
  it('whole seconds in Retry-After, rounded up; the exact wait in retry-after-ms', () => {
    const e = new GatewayError('SUTAZAI_ERR_OVERLOADED', 'busy', { retryAfter: 4.2 });
    expect(errorHeaders(e)).toEqual({ 'retry-after': '5', 'retry-after-ms': '4200' });
  });
  it('a whole-second wait has Retry-After only', () => {
    const e = new GatewayError('SUTAZAI_ERR_UPSTREAM_BUSY', 'busy', { retryAfter: 1 });
    expect(errorHeaders(e)).toEqual({ 'retry-after': '1' });
  });
});
