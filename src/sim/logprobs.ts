import { hash32 } from './rng.js';

/**
 * Log probabilities for the simulator's tokens (docs/protocols.md: OpenAI chat `logprobs.content[]`,
 * Ollama ≥ 0.12.11 `logprobs[]` — the same entry shape: token, logprob, bytes, top_logprobs). The
 * values are a pure function of the token and its position, so answers stay deterministic.
 */

export interface SimLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

const ALTERNATIVES = ['and', 'of', 'to', 'in', 'is', 'it', 'on', 'for', 'as', 'by', 'at', 'or'];

const bytesOf = (s: string): number[] => [...Buffer.from(s, 'utf8')];

/** The entry for `token` at `position`, with `top` alternatives (the chosen token first). */
export function simLogprob(token: string, position: number, top: number): SimLogprob {
  const logprob = -((hash32(`${position}\u0000${token}`) % 2000) / 1000) - 0.001;
  const top_logprobs: SimLogprob['top_logprobs'] = [];
  for (let i = 0; i < top; i++) {
    const t = i === 0 ? token : ` ${ALTERNATIVES[(position + i) % ALTERNATIVES.length] ?? 'x'}`;
    const lp = i === 0 ? logprob : logprob - i * 0.5;
    top_logprobs.push({ token: t, logprob: lp, bytes: bytesOf(t) });
  }
  return { token, logprob, bytes: bytesOf(token), top_logprobs };
}

/** `logprobs`/`top_logprobs` of a request: undefined = not asked for, else the number of alternatives. */
export function wantedLogprobs(logprobs: unknown, top: unknown): number | undefined {
  if (logprobs !== true) return undefined;
  return typeof top === 'number' && Number.isInteger(top) && top >= 0 && top <= 20 ? top : 0;
}
