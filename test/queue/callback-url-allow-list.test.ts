import { describe, expect, it } from 'vitest';
import { errors, GatewayError } from '../../src/errors/catalogue.js';
import { checkCallbackUrl } from '../../src/queue/callbacks.js';
import { classifyError } from '../../src/queue/outcome.js';

describe('callback_url allow-list (no open SSRF)', () => {
  const allowed = ['hooks.example.com', '127.0.0.1:9000', '[::1]:8080'];

  it('accepts listed hosts: a bare host allows any port, host:port only that port', () => {
    expect(checkCallbackUrl('https://hooks.example.com/a?b=1', allowed)).toBe(
      'https://hooks.example.com/a?b=1',
    );
    expect(checkCallbackUrl('http://HOOKS.example.com:8443/x', allowed)).toBe(
      'http://hooks.example.com:8443/x',
    );
    expect(checkCallbackUrl('http://127.0.0.1:9000/done', allowed)).toBe('http://127.0.0.1:9000/done');
    expect(checkCallbackUrl('http://[::1]:8080/', allowed)).toBe('http://[::1]:8080/');
  });

  it.each([
    ['http://127.0.0.1:9001/', 'other port'],
    ['http://169.254.169.254/latest/meta-data', 'metadata address'],
    ['http://hooks.example.com.evil.net/', 'suffix trick'],
    ['http://user:pw@hooks.example.com/', 'credentials'],
    ['file:///etc/passwd', 'scheme'],
    ['not a url', 'garbage'],
  ])('rejects %s (%s) with a 400 naming callback_url', (url) => {
    let caught: unknown;
    try {
      checkCallbackUrl(url, allowed);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect(caught).toMatchObject({ status: 400, param: 'callback_url' });
  });

  it('rejects everything when the allow-list is empty', () => {
    expect(() => checkCallbackUrl('http://127.0.0.1:9000/', [])).toThrow(/disabled/);
  });
});

describe('which task failures are retried', () => {
  it.each([
    [errors.upstreamUnavailable('u'), true],
    [errors.upstreamBusy('u'), true],
    [errors.upstreamTimeout('u', 'headers'), true],
    [errors.upstreamError('u', 'HTTP 500'), true],
    [new GatewayError('SUTAZAI_ERR_OVERLOADED', 'x'), true],
    [errors.validation('bad', 'prompt'), false],
    [errors.modelNotFound('m'), false],
    [errors.upstreamBadResponse('u', 'garbage'), false],
    [new GatewayError('SUTAZAI_ERR_BAD_REQUEST', 'x'), false],
    [new TypeError('bug'), false],
  ])('%s → retryable %s', (err, retryable) => {
    expect(classifyError(err).retryable).toBe(retryable);
  });

  it('hides internal error details from clients', () => {
    expect(classifyError(new TypeError('secret stack detail')).error).toEqual({
      code: 'SUTAZAI_ERR_INTERNAL',
      message: 'internal error while running the task',
    });
  });
});
