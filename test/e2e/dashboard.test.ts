import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/gateway.js';
import { startMetricsStack } from '../metrics/helpers.js';
import { CHROMIUM, missing } from '../helpers/services.js';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../artifacts');

/** Keeps a trickle of chat requests going (some cached, some not) until stopped. */
function startTraffic(url: string) {
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      n++;
      const message = n % 3 === 0 ? `fresh ${n}` : 'the cached question';
      try {
        const r = await fetch(`${url}/api/v1/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'tinyllama', message }),
        });
        await r.text();
      } catch {
        // Errors are part of the picture once the upstream is stopped.
      }
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe.skipIf(missing('chromium'))('dashboard in headless Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let traffic: ReturnType<typeof startTraffic>;

  beforeAll(async () => {
    stack = await startMetricsStack({ sim: { ttftMs: 20, tps: 500 }, gateway: { alertIntervalMs: 200 } });
    traffic = startTraffic(stack.gw.url);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await traffic?.stop();
    await stack?.close();
  });

  it('shows live charts, then a critical alert when the simulator stops', { timeout: 60_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
    const failed: string[] = [];
    page.on('requestfailed', (r) => {
      if (!r.url().includes('/api/v1/metrics/stream')) failed.push(r.url());
    });
    page.on('pageerror', (e) => failed.push(`page error: ${e.message}`));
    await page.goto(`${stack.gw.url}/dashboard`);

    // Six uPlot charts, fed by the event stream about once a second.
    const samples = async () => Number((await page.locator('body').getAttribute('data-samples')) ?? 0);
    await expect.poll(samples, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    expect(await page.locator('.uplot canvas').count()).toBe(6);
    const before = await samples();
    await expect.poll(samples, { timeout: 15_000 }).toBeGreaterThanOrEqual(before + 2);
    const rps = Number(await page.locator('#t-rps').textContent());
    expect(rps).toBeGreaterThan(0);
    await expect.poll(async () => page.locator('#upstreams tbody td.healthy').count()).toBe(1);
    expect(await page.locator('#t-hit').textContent()).toMatch(/%/);

    // Stop the upstream: the dashboard must show it as a critical alert (not as 0% errors).
    await stack.sim.close();
    await stack.gw.services.health.refresh();
    const alert = page.locator('.alert.critical[data-rule="upstream_down"]');
    await alert.waitFor({ timeout: 20_000 });
    expect(await alert.textContent()).toMatch(/upstream .* is down/);
    await page.locator('#upstreams tbody td.unhealthy').waitFor({ timeout: 10_000 });
    expect(await page.locator('#status').textContent()).toBe('critical');

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(failed).toEqual([]);
  });
});
