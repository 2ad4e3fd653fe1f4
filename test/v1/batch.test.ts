import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/gateway.js';
import { postJson } from '../helpers/http.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack({
    sim: { parallel: 4 },
    gateway: { cacheMode: 'off', batchMaxItems: 5, batchConcurrency: 1 },
  });
});
afterAll(async () => {
  await s.close();
});

type Item = { index: number; response?: string; error?: { code: string; status: number } };

describe('POST /api/v1/batch', () => {
  it('returns results in input order', async () => {
    const prompts = ['alpha one', 'beta two three', 'gamma', 'delta four five six'];
    const r = await postJson(`${s.gw.url}/api/v1/batch`, { prompts, options: { num_predict: 5 } });
    expect(r.status).toBe(200);
    const results = r.json.results as Item[];
    expect(results.map((x) => x.index)).toEqual([0, 1, 2, 3]);
    // Each answer equals what a single request for that prompt returns.
    for (const [i, p] of prompts.entries()) {
      const one = await postJson(`${s.gw.url}/api/v1/batch`, { prompts: [p], options: { num_predict: 5 } });
      expect((one.json.results as Item[])[0]?.response).toBe(results[i]?.response);
    }
  });

  it('gives each failed item its own error and keeps the others', async () => {
    s.sim.setFaults({ failNext: 1, failNextStatus: 500 });
    const r = await postJson(`${s.gw.url}/api/v1/batch`, { prompts: ['first fails', 'second works'] });
    expect(r.status).toBe(200);
    const results = r.json.results as Item[];
    expect(results[0]?.error?.code).toBe('SUTAZAI_ERR_UPSTREAM_ERROR');
    expect(results[1]?.response).toBeTruthy();
    expect(r.json.failed).toBe(1);
  });

  it('a batch in which every item failed is not a 200', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/batch`, { prompts: ['x'], model: 'ghost' });
    expect(r.status).toBe(404);
  });

  it('accepts the seed form: a bare array of prompts', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/batch`, ['one', 'two']);
    expect(r.status).toBe(200);
    expect((r.json.results as Item[]).length).toBe(2);
  });

  it('too many prompts → 400 naming the field', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/batch`, { prompts: ['1', '2', '3', '4', '5', '6'] });
    expect(r.status).toBe(400);
    expect(r.json.error?.param).toBe('prompts');
  });

  it('wrong item types → 400 naming the item', async () => {
    const r = await postJson(`${s.gw.url}/api/v1/batch`, { prompts: ['ok', 7] });
    expect(r.status).toBe(400);
    expect(r.json.error?.param).toBe('prompts[1]');
  });
});
