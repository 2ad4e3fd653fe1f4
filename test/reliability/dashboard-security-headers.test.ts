import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';

// Security review (issue 23): the dashboard is served with a CSP that allows this origin only and
// no framing, no MIME sniffing and no referrer; the API responses are not touched.

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => {
  await s.close();
});

describe('dashboard security headers', () => {
  it('page and assets carry CSP (frame-ancestors none), nosniff, DENY, no-referrer', async () => {
    for (const path of ['/dashboard', '/dashboard/app.js', '/dashboard/vendor/uPlot.iife.min.js']) {
      const r = await fetch(`${s.gw.url}${path}`);
      await r.arrayBuffer();
      expect(r.status, path).toBe(200);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    }
    // The page has nothing inline that the CSP would block.
    const html = await (await fetch(`${s.gw.url}/dashboard`)).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style/);
    expect(html).not.toMatch(/\son[a-z]+=/);
  });

  it('API responses are left alone', async () => {
    const r = await fetch(`${s.gw.url}/api/v1/status`);
    await r.text();
    expect(r.headers.get('content-security-policy')).toBeNull();
  });
});
