import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startSimulator } from '../../src/sim/server.js';
import type { SimStartOptions } from '../../src/sim/server.js';
import type { SimHandle } from '../../src/sim/types.js';
import type { UpstreamConfig, UpstreamKind, UpstreamTimeouts } from '../../src/config/upstreams.js';
import type { UpstreamAdapter } from '../../src/upstreams/types.js';
import {
  chatReq,
  closedPort,
  collect,
  embedReq,
  generateReq,
  upstreamConfig,
  WEATHER_TOOL,
} from './helpers.js';

/** What the contract needs to know about one adapter implementation. */
export interface AdapterTarget {
  kind: UpstreamKind;
  create(cfg: UpstreamConfig): UpstreamAdapter;
  /** The adapter's base URL for a simulator at `simUrl` (Ollama: as is; OpenAI: plus /v1). */
  baseUrl(simUrl: string): string;
}

const NO_FAULTS = {
  errorRate: 0,
  midStreamErrorRate: 0,
  stallRate: 0,
  slowHeadersMs: 0,
  failNext: 0,
  failNextStatus: 503,
};

/**
 * The behaviour every upstream adapter must show against the simulator over real HTTP: mapping of
 * chat/generate/embed/models/health, streaming equal to non-streaming, and every failure mapped to
 * the error catalogue (404, 400, 502, 503, 504, client abort freeing the upstream slot).
 */
export function adapterContract(target: AdapterTarget): void {
  describe(`${target.kind} adapter contract`, () => {
    let sim: SimHandle;
    const opened: UpstreamAdapter[] = [];
    const extraSims: SimHandle[] = [];

    const adapter = (timeouts: Partial<UpstreamTimeouts> = {}, on: SimHandle = sim): UpstreamAdapter => {
      const a = target.create(upstreamConfig(target.kind, target.baseUrl(on.url), timeouts));
      opened.push(a);
      return a;
    };
    const startSim = async (opts: SimStartOptions): Promise<SimHandle> => {
      const s = await startSimulator(opts);
      extraSims.push(s);
      return s;
    };
    const signal = (): AbortSignal => new AbortController().signal;

    beforeAll(async () => {
      sim = await startSimulator({ defaultTokens: 24 });
    });
    afterAll(async () => {
      await sim.close();
    });
    beforeEach(() => {
      sim.setFaults(NO_FAULTS);
      sim.resetStats();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((a) => a.close()));
      await Promise.all(extraSims.splice(0).map((s) => s.close()));
    });

    describe('generation', () => {
      it('chat (non-streaming) yields text, then done with stop and usage', async () => {
        const r = await collect(adapter().chat(chatReq(), signal()));
        expect(r.text.length).toBeGreaterThan(0);
        expect(r.finishReason).toBe('stop');
        expect(r.usage?.promptTokens).toBeGreaterThan(0);
        expect(r.usage?.completionTokens).toBe(24);
        expect(r.chunks.at(-1)?.type).toBe('done');
      });

      it('chat streaming yields several deltas whose text equals the non-streaming text', async () => {
        const a = adapter();
        const whole = await collect(a.chat(chatReq(), signal()));
        const streamed = await collect(a.chat(chatReq({ stream: true }), signal()));
        expect(streamed.deltas).toBeGreaterThan(1);
        expect(streamed.text).toBe(whole.text);
        expect(streamed.usage).toEqual(whole.usage);
        expect(streamed.finishReason).toBe('stop');
      });

      it('generate works streaming and non-streaming with the same text', async () => {
        const a = adapter();
        const whole = await collect(a.generate(generateReq(), signal()));
        const streamed = await collect(a.generate(generateReq({ stream: true }), signal()));
        expect(whole.text.length).toBeGreaterThan(0);
        expect(streamed.text).toBe(whole.text);
        expect(streamed.usage?.completionTokens).toBe(24);
        expect(streamed.usage?.promptTokens).toBeGreaterThan(0);
      });

      it('generate with a system prompt works', async () => {
        const r = await collect(adapter().generate(generateReq({ system: 'Be brief.' }), signal()));
        expect(r.text.length).toBeGreaterThan(0);
        expect(r.finishReason).toBe('stop');
      });

      it('maxTokens limits the completion and reports finish reason length', async () => {
        const a = adapter();
        const opts = { seed: 7, maxTokens: 3 };
        const whole = await collect(a.chat(chatReq({ options: opts }), signal()));
        const streamed = await collect(a.chat(chatReq({ options: opts, stream: true }), signal()));
        for (const r of [whole, streamed]) {
          expect(r.finishReason).toBe('length');
          expect(r.usage?.completionTokens).toBe(3);
        }
        expect(streamed.text).toBe(whole.text);
      });

      it('tool calls come back with object arguments and finish reason tool_calls', async () => {
        const a = adapter();
        const req = chatReq({
          messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
          tools: [WEATHER_TOOL],
        });
        const whole = await collect(a.chat(req, signal()));
        const streamed = await collect(a.chat({ ...req, stream: true }, signal()));
        for (const r of [whole, streamed]) {
          expect(r.finishReason).toBe('tool_calls');
          expect(r.toolCalls).toHaveLength(1);
          expect(r.toolCalls[0]?.name).toBe('get_weather');
          expect(typeof r.toolCalls[0]?.arguments.city).toBe('string');
          expect(r.toolCalls[0]?.id.length).toBeGreaterThan(0);
        }
        expect(streamed.toolCalls).toEqual(whole.toolCalls);
        // One tool_calls chunk per turn even when the upstream streams argument fragments.
        expect(streamed.chunks.filter((c) => c.type === 'tool_calls')).toHaveLength(1);
      });

      it('a tool result turn is accepted and answered with text', async () => {
        const call = { id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } };
        const req = chatReq({
          messages: [
            { role: 'user', content: 'What is the weather in Paris?' },
            { role: 'assistant', content: '', toolCalls: [call] },
            { role: 'tool', content: '{"temp":21}', toolName: 'get_weather', toolCallId: 'call_1' },
          ],
          tools: [WEATHER_TOOL],
        });
        const r = await collect(adapter().chat(req, signal()));
        expect(r.text.length).toBeGreaterThan(0);
        expect(r.toolCalls).toHaveLength(0);
      });
    });

    describe('embeddings, models, health', () => {
      it('embed returns one vector per input', async () => {
        const r = await adapter().embed(embedReq(), signal());
        expect(r.embeddings).toHaveLength(2);
        expect(r.embeddings[0]?.length).toBeGreaterThan(0);
        expect(r.embeddings[0]?.length).toBe(r.embeddings[1]?.length);
        expect(typeof r.embeddings[0]?.[0]).toBe('number');
        expect(r.embeddings[0]).not.toEqual(r.embeddings[1]);
        expect(r.promptTokens).toBeGreaterThan(0);
      });

      it('listModels names every model the upstream serves', async () => {
        const models = await adapter().listModels(signal());
        const names = models.map((m) => m.name).sort();
        expect(names).toEqual(['llama3.2:latest', 'nomic-embed-text:latest', 'qwen2.5:0.5b']);
        expect(models.every((m) => m.upstream === 'sim')).toBe(true);
      });

      it('health reports ok with a latency', async () => {
        const h = await adapter().health(signal());
        expect(h.ok).toBe(true);
        expect(h.latencyMs).toBeGreaterThanOrEqual(0);
        if (target.kind === 'ollama') expect(typeof h.version).toBe('string');
      });

      it('poolStats and inFlight reflect the keep-alive pool', async () => {
        const a = adapter();
        await collect(a.chat(chatReq(), signal()));
        expect(a.poolStats().connected).toBeGreaterThanOrEqual(1);
        expect(a.inFlight?.()).toBe(0);
      });
    });

    describe('errors', () => {
      it('unknown model → 404 model not found (chat, stream, embed)', async () => {
        const a = adapter();
        const code = { code: 'SUTAZAI_ERR_MODEL_NOT_FOUND', status: 404 };
        await expect(collect(a.chat(chatReq({ model: 'nope:1b' }), signal()))).rejects.toMatchObject(code);
        await expect(
          collect(a.chat(chatReq({ model: 'nope:1b', stream: true }), signal())),
        ).rejects.toMatchObject(code);
        await expect(a.embed(embedReq({ model: 'nope:1b' }), signal())).rejects.toMatchObject(code);
      });

      it("upstream 400 → SUTAZAI_ERR_BAD_REQUEST with the upstream's message", async () => {
        const err = await collect(adapter().chat(chatReq({ model: 'nomic-embed-text' }), signal())).catch(
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ code: 'SUTAZAI_ERR_BAD_REQUEST', status: 400 });
        expect((err as Error).message).toContain('does not support chat');
      });

      it('upstream down (closed port) → 503 unavailable; health not ok', async () => {
        const port = await closedPort();
        const a = target.create(upstreamConfig(target.kind, target.baseUrl(`http://127.0.0.1:${port}`)));
        opened.push(a);
        await expect(collect(a.chat(chatReq(), signal()))).rejects.toMatchObject({
          code: 'SUTAZAI_ERR_UPSTREAM_UNAVAILABLE',
          status: 503,
        });
        await expect(a.listModels(signal())).rejects.toMatchObject({ status: 503 });
        const h = await a.health(signal());
        expect(h.ok).toBe(false);
        expect(h.error).toContain('UNAVAILABLE');
      });

      it('headers slower than totalMs → 504 timeout (and the upstream request is dropped)', async () => {
        sim.setFaults({ slowHeadersMs: 5000 });
        const a = adapter({ totalMs: 200 });
        await expect(collect(a.chat(chatReq(), signal()))).rejects.toMatchObject({
          code: 'SUTAZAI_ERR_UPSTREAM_TIMEOUT',
          status: 504,
        });
        await expect(collect(a.chat(chatReq({ stream: true }), signal()))).rejects.toMatchObject({
          status: 504,
        });
        expect(a.inFlight?.()).toBe(0);
      });

      it('a stream stalling longer than idleMs → 504, and the stalled slot is freed', async () => {
        sim.setFaults({ stallRate: 1 });
        const a = adapter({ idleMs: 200 });
        const r = { deltas: 0 };
        const err = await (async () => {
          for await (const c of a.chat(chatReq({ stream: true }), signal()))
            if (c.type === 'delta') r.deltas++;
        })().catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'SUTAZAI_ERR_UPSTREAM_TIMEOUT', status: 504 });
        expect(r.deltas).toBeGreaterThan(0);
        await vi.waitFor(() => expect(sim.stats()).toMatchObject({ active: 0, aborted: 1 }), {
          timeout: 5000,
        });
      });

      it('an error mid-stream → 502 upstream error after the first deltas', async () => {
        sim.setFaults({ midStreamErrorRate: 1 });
        const seen: string[] = [];
        const err = await (async () => {
          for await (const c of adapter().chat(chatReq({ stream: true }), signal())) seen.push(c.type);
        })().catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'SUTAZAI_ERR_UPSTREAM_ERROR', status: 502 });
        expect((err as Error).message).toContain('simulated mid-stream failure');
        expect(seen).toContain('delta');
        expect(seen).not.toContain('done');
      });

      it('upstream 500 → 502 upstream error', async () => {
        sim.setFaults({ failNext: 1, failNextStatus: 500 });
        await expect(collect(adapter().chat(chatReq(), signal()))).rejects.toMatchObject({
          code: 'SUTAZAI_ERR_UPSTREAM_ERROR',
          status: 502,
        });
      });

      it('upstream 429 → 503 busy with a default Retry-After', async () => {
        sim.setFaults({ failNext: 1, failNextStatus: 429 });
        await expect(collect(adapter().chat(chatReq(), signal()))).rejects.toMatchObject({
          code: 'SUTAZAI_ERR_UPSTREAM_BUSY',
          status: 503,
          retryAfter: 1,
        });
      });

      it('upstream queue full (503) → 503 busy with Retry-After', async () => {
        const small = await startSim({ parallel: 1, maxQueue: 0, faults: { stallRate: 1 } });
        const a = adapter({}, small);
        const holder = new AbortController();
        const occupying = a.chat(chatReq({ stream: true }), holder.signal)[Symbol.asyncIterator]();
        await occupying.next(); // the only slot is now taken (and stalled)
        await expect(collect(a.chat(chatReq(), signal()))).rejects.toMatchObject({
          code: 'SUTAZAI_ERR_UPSTREAM_BUSY',
          status: 503,
          retryAfter: 1,
        });
        expect(small.stats().rejected503).toBe(1);
        holder.abort();
        await expect(occupying.next()).rejects.toMatchObject({ code: 'SUTAZAI_ERR_CLIENT_CLOSED' });
      });
    });

    describe('cancellation', () => {
      it('client abort mid-stream ends the iterator with an abort error and frees the upstream slot', async () => {
        const slow = await startSim({ tps: 40, defaultTokens: 400 });
        const a = adapter({}, slow);
        const ac = new AbortController();
        const it = a.chat(chatReq({ stream: true }), ac.signal)[Symbol.asyncIterator]();
        const first = await it.next();
        expect(first.value).toMatchObject({ type: 'delta' });
        expect(slow.stats().active).toBe(1);
        ac.abort();
        await expect(it.next()).rejects.toMatchObject({ code: 'SUTAZAI_ERR_CLIENT_CLOSED', status: 499 });
        await vi.waitFor(() => expect(slow.stats()).toMatchObject({ active: 0, aborted: 1 }), {
          timeout: 5000,
        });
        expect(a.inFlight?.()).toBe(0);
      });

      it('breaking out of for-await early aborts the upstream request and frees the slot', async () => {
        const slow = await startSim({ tps: 40, defaultTokens: 400 });
        const a = adapter({}, slow);
        let got = 0;
        for await (const c of a.chat(chatReq({ stream: true }), signal())) {
          if (c.type === 'delta' && ++got === 2) break;
        }
        await vi.waitFor(() => expect(slow.stats()).toMatchObject({ active: 0, aborted: 1 }), {
          timeout: 5000,
        });
        expect(a.inFlight?.()).toBe(0);
      });

      it('return() while a next() waits for the upstream ends that next() and aborts the request', async () => {
        const slow = await startSim({ tps: 4, defaultTokens: 400 });
        const a = adapter({}, slow);
        const it = a.chat(chatReq({ stream: true }), signal())[Symbol.asyncIterator]();
        expect((await it.next()).value).toMatchObject({ type: 'delta' });
        const pending = it.next(); // the next token is 250 ms away
        await it.return?.();
        expect(await pending).toEqual({ done: true, value: undefined });
        await vi.waitFor(() => expect(slow.stats()).toMatchObject({ active: 0, aborted: 1 }), {
          timeout: 5000,
        });
        expect(a.inFlight?.()).toBe(0);
      });

      it('abort while waiting for headers rejects with an abort error', async () => {
        sim.setFaults({ slowHeadersMs: 5000 });
        const ac = new AbortController();
        const pending = collect(adapter().chat(chatReq(), ac.signal));
        setTimeout(() => ac.abort(), 50);
        await expect(pending).rejects.toMatchObject({ code: 'SUTAZAI_ERR_CLIENT_CLOSED' });
      });

      it('an already-aborted signal fails at once without calling the upstream', async () => {
        const ac = new AbortController();
        ac.abort();
        await expect(collect(adapter().chat(chatReq(), ac.signal))).rejects.toMatchObject({
          code: 'SUTAZAI_ERR_CLIENT_CLOSED',
        });
        expect(Object.values(sim.stats().requests).reduce((n, v) => n + v, 0)).toBe(0);
      });

      it('a finished stream leaves the connection in the pool for reuse', async () => {
        const a = adapter();
        await collect(a.chat(chatReq({ stream: true }), signal()));
        // undici marks a socket free on the tick after the response completed.
        await new Promise((resolve) => setImmediate(resolve));
        await collect(a.chat(chatReq({ stream: true }), signal()));
        expect(a.poolStats().connected).toBe(1);
        expect(sim.stats().aborted).toBe(0);
      });
    });
  });
}
