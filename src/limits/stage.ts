import { GatewayError } from '../errors/catalogue.js';
import type { GenerationResult, Stage } from '../pipeline/pipeline.js';
import type { CallerKey, Chunk, GenerationRequest } from '../pipeline/types.js';
import type { LimitDecision, Limiter } from './types.js';

/** Rough tokens of a text (≈ 4 characters each): enough to reserve, settled with the real count. */
const tokensOf = (chars: number) => Math.ceil(chars / 4);

function estimate(req: GenerationRequest, defaultMaxTokens: number): number {
  let chars = 0;
  if (req.kind === 'chat') for (const m of req.messages) chars += m.content.length;
  else chars = req.prompt.length + (req.system?.length ?? 0);
  return tokensOf(chars) + (req.options.maxTokens ?? defaultMaxTokens);
}

const seconds = (ms: number) => `${Math.max(0, Math.ceil(ms / 1000))}s`;

/** OpenAI's rate-limit headers (docs/protocols.md): limit, remaining and reset, for requests and tokens. */
export function rateLimitHeaders(l: CallerKey, d: LimitDecision): Record<string, string> {
  const h: Record<string, string> = {};
  if (l.rpm !== undefined) {
    h['x-ratelimit-limit-requests'] = String(l.rpm);
    h['x-ratelimit-remaining-requests'] = String(d.remainingRequests);
    h['x-ratelimit-reset-requests'] = seconds(d.resetRequestsMs);
  }
  if (l.tpm !== undefined) {
    h['x-ratelimit-limit-tokens'] = String(l.tpm);
    h['x-ratelimit-remaining-tokens'] = String(d.remainingTokens);
    h['x-ratelimit-reset-tokens'] = seconds(d.resetTokensMs);
  }
  return h;
}

function refusal(l: CallerKey, d: LimitDecision): GatewayError {
  const what =
    d.reason === 'requests'
      ? `${l.rpm} requests per minute`
      : d.reason === 'tokens'
        ? `${l.tpm} tokens per minute`
        : `${l.concurrency} requests at once`;
  const retryMs =
    d.reason === 'requests' ? d.resetRequestsMs : d.reason === 'tokens' ? d.resetTokensMs : 1000;
  return new GatewayError('SUTAZAI_ERR_RATE_LIMITED', `rate limit of this API key reached: ${what}`, {
    retryAfter: Math.max(1, retryMs / 1000),
    headers: rateLimitHeaders(l, d),
  });
}

const limited = (l: CallerKey | undefined): l is CallerKey =>
  l !== undefined && (l.rpm !== undefined || l.tpm !== undefined || l.concurrency !== undefined);

/**
 * Per-key limits, after the input limits and before the cache: requests per minute, tokens per
 * minute (reserved from an estimate, settled with the real usage once the answer is done; a cache
 * hit settles to 0 — it cost no upstream tokens) and requests in flight. Refusals are 429 with
 * Retry-After and the x-ratelimit-* headers. Callers without limits pass with one property read.
 */
export function limitsStage(deps: { limiter: Limiter; defaultMaxTokens: number }): Stage {
  const { limiter } = deps;

  async function* settled(
    chunks: AsyncIterable<Chunk>,
    id: string,
    l: CallerKey,
    est: number,
  ): AsyncIterable<Chunk> {
    let used = 0;
    try {
      for await (const c of chunks) {
        if (c.type === 'done') used = c.usage.promptTokens + c.usage.completionTokens;
        yield c;
      }
    } finally {
      limiter.finish(id, l, used - est);
    }
  }

  return {
    name: 'limits',
    async generate(req, ctx, next): Promise<GenerationResult> {
      const l = ctx.caller.key;
      const id = ctx.caller.keyId;
      if (!limited(l) || id === undefined) return next();
      const est = estimate(req, deps.defaultMaxTokens);
      const d = await limiter.acquire(id, l, est);
      if (!d.ok) throw refusal(l, d);
      let result: GenerationResult;
      try {
        result = await next();
      } catch (err) {
        limiter.finish(id, l, -est);
        throw err;
      }
      if (result.cache === 'hit-l1' || result.cache === 'hit-l2') {
        // A cache hit cost no upstream tokens and is replayed from memory: settle now, unwrapped.
        limiter.finish(id, l, -est);
        return result;
      }
      return { ...result, chunks: settled(result.chunks, id, l, est) };
    },
    async embed(req, ctx, next) {
      const l = ctx.caller.key;
      const id = ctx.caller.keyId;
      if (!limited(l) || id === undefined) return next();
      let chars = 0;
      for (const t of req.input) chars += t.length;
      const est = tokensOf(chars);
      const d = await limiter.acquire(id, l, est);
      if (!d.ok) throw refusal(l, d);
      try {
        const out = await next();
        const hit = out.cache === 'hit-l1' || out.cache === 'hit-l2';
        limiter.finish(id, l, (hit ? 0 : out.result.promptTokens) - est);
        return out;
      } catch (err) {
        limiter.finish(id, l, -est);
        throw err;
      }
    },
  };
}
