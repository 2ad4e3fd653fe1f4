import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlertEngine, type AlertEvent, type AlertRule } from '../../src/metrics/alerts.js';
import { startSimulator } from '../../src/sim/server.js';
import type { Stack } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';
import { alertsView, eventually, metricsView, startMetricsStack } from './helpers.js';

describe('alert engine hysteresis', () => {
  const rule: AlertRule<number | null> = {
    id: 'latency',
    title: 'latency',
    unit: 'ms',
    warning: 200,
    critical: 500,
    read: (v) => [{ value: v }],
  };
  const run = (values: Array<number | null>, fireAfter = 2, clearAfter = 3) => {
    const engine = createAlertEngine({ rules: [rule], fireAfter, clearAfter });
    const levels = values.map((v) => {
      engine.evaluate(v);
      return engine.active()[0]?.severity ?? 'ok';
    });
    return { levels, engine };
  };

  it('fires only after N consecutive breaches and clears only after M consecutive good readings', () => {
    const { levels, engine } = run([300, 100, 300, 300, 100, 100, 300, 100, 100, 100]);
    expect(levels).toEqual([
      'ok', // one breach is not enough
      'ok',
      'ok',
      'warning', // second breach in a row
      'warning',
      'warning',
      'warning', // a breach resets the clearing streak
      'warning',
      'warning',
      'ok', // third good reading in a row
    ]);
    expect(engine.history().map((e) => e.kind)).toEqual(['resolved', 'fired']);
  });

  it('does not flap on a value alternating around the threshold', () => {
    const { levels, engine } = run([201, 199, 201, 199, 201, 199, 201, 199]);
    expect(new Set(levels)).toEqual(new Set(['ok']));
    expect(engine.history()).toEqual([]);
  });

  it('escalates and downgrades with the same hysteresis; strictly greater than the threshold', () => {
    const { levels, engine } = run([600, 600, 600, 300, 300, 300, 500, 500, 200, 200, 200]);
    expect(levels).toEqual([
      'ok',
      'critical',
      'critical',
      'critical',
      'critical',
      'warning',
      'warning',
      'warning',
      'warning',
      'warning',
      'ok', // 500 and 200 are not above 500 / 200
    ]);
    expect(engine.history().map((e) => `${e.kind}:${e.to}`)).toEqual([
      'resolved:ok',
      'downgraded:warning',
      'fired:critical',
    ]);
  });

  it('fires at the lowest severity every breaching reading agreed on', () => {
    const { levels } = run([300, 900, 900]);
    expect(levels).toEqual(['ok', 'warning', 'warning']);
  });

  it('treats "no data" as not breaching', () => {
    const { levels } = run([900, null, 900, null]);
    expect(new Set(levels)).toEqual(new Set(['ok']));
  });
});

/** A local HTTP server that records alert webhook deliveries. */
async function startWebhookSink(): Promise<{ url: string; events: AlertEvent[]; close(): Promise<void> }> {
  const events: AlertEvent[] = [];
  const read = async (req: IncomingMessage) => {
    let body = '';
    for await (const c of req) body += String(c);
    return JSON.parse(body) as { event: AlertEvent };
  };
  const server: Server = createServer((req, res) => {
    read(req).then(
      (b) => {
        events.push(b.event);
        res.end('ok');
      },
      () => {
        res.statusCode = 400;
        res.end();
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    events,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('alerts on induced conditions (real gateway)', () => {
  let stack: Stack | undefined;
  let sink: Awaited<ReturnType<typeof startWebhookSink>> | undefined;
  let revived: Awaited<ReturnType<typeof startSimulator>> | undefined;
  afterEach(async () => {
    await stack?.close();
    await revived?.close();
    revived = undefined;
    await sink?.close();
    stack = undefined;
    sink = undefined;
  });

  it('a stopped upstream is a critical alert (not 0% errors), and it resolves when the upstream returns', async () => {
    sink = await startWebhookSink();
    stack = await startMetricsStack({ gateway: { alertIntervalMs: 100, alertWebhookUrl: sink.url } });
    const { gw, sim } = stack;
    const id = gw.services.adapters[0]?.id ?? '';
    await gw.services.health.refresh();
    const port = sim.port;
    await sim.close();
    await gw.services.health.refresh();

    const fired = await eventually(async () => {
      const a = await alertsView(gw.url);
      return a.active.find((x) => x.rule === 'upstream_down' && x.subject === id);
    });
    expect(fired.severity).toBe('critical');
    const r = await postJson(`${gw.url}/api/v1/chat`, { model: 'tinyllama', message: 'anyone there?' });
    expect(r.status).toBe(503);
    const v = await metricsView(gw.url);
    expect(v.status).toBe('critical');
    expect(v.upstreams[0]?.status).toBe('unhealthy');
    expect(v.alerts.active.some((a) => a.rule === 'upstream_down')).toBe(true);

    // The same port again: the upstream is back.
    revived = await startSimulator({ port, models: ['tinyllama', 'llama3.2'] });
    await gw.services.health.refresh();
    const resolved = await eventually(async () => {
      const a = await alertsView(gw.url);
      return a.history.find((e) => e.key === `upstream_down:${id}` && e.kind === 'resolved');
    });
    expect(resolved.to).toBe('ok');
    expect((await alertsView(gw.url)).active.some((a) => a.rule === 'upstream_down')).toBe(false);
    const delivered = await eventually(async () => {
      const kinds = sink?.events.filter((e) => e.key === `upstream_down:${id}`).map((e) => e.kind);
      return kinds?.includes('resolved') ? kinds : undefined;
    });
    expect(delivered).toEqual(['fired', 'resolved']);
  });

  it('an error burst fires the error-rate alert, which clears once the window is clean', async () => {
    // The circuit stays closed through the burst: the alert is under test, not ejection (test/routing).
    stack = await startMetricsStack({
      gateway: { alertIntervalMs: 100, alertWindowS: 2, breakerFailures: 1000 },
    });
    const { gw, sim } = stack;
    sim.setFaults({ errorRate: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push(
        (await postJson(`${gw.url}/api/v1/chat`, { model: 'tinyllama', message: `burst ${i}` })).status,
      );
    }
    expect(statuses.every((s) => s >= 500)).toBe(true);
    const fired = await eventually(async () => {
      const a = await alertsView(gw.url);
      return a.active.find((x) => x.rule === 'error_rate');
    });
    expect(fired.severity).toBe('critical');
    expect(fired.value).toBeGreaterThan(5);

    sim.setFaults({ errorRate: 0 });
    for (let i = 0; i < 5; i++) {
      expect(
        (await postJson(`${gw.url}/api/v1/chat`, { model: 'tinyllama', message: `ok ${i}` })).status,
      ).toBe(200);
    }
    const resolved = await eventually(async () => {
      const a = await alertsView(gw.url);
      return a.history.find((e) => e.rule === 'error_rate' && e.kind === 'resolved');
    });
    expect(resolved.to).toBe('ok');
    const history = (await alertsView(gw.url)).history.filter((e) => e.rule === 'error_rate');
    // One fire, one resolve: no flapping while the window drained.
    expect(history.map((e) => e.kind)).toEqual(['resolved', 'fired']);
  });
});
