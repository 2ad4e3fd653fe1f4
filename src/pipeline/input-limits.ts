import { GatewayError } from '../errors/catalogue.js';
import type { Stage } from './pipeline.js';

export interface InputLimits {
  /** Most inputs in one embedding request. */
  embedMaxInputs: number;
  /** Most bytes (UTF-8, summed over inputs) in one embedding request. */
  embedMaxBytes: number;
}

/**
 * Refuses requests too big to answer without harm before any other work: an embedding request's
 * answer grows with its inputs (50,000 inputs came back as hundreds of MB of vectors, 3.3 GB of
 * RSS and an event loop blocked for 11 s), so the number and size of inputs are bounded, for every
 * surface and for tasks alike.
 */
export function inputLimitsStage(limits: InputLimits): Stage {
  return {
    name: 'input-limits',
    embed(req, ctx, next) {
      const n = req.tokens?.length ?? req.input.length;
      if (n > limits.embedMaxInputs) {
        throw new GatewayError(
          'SUTAZAI_ERR_VALIDATION',
          `input: ${n} items, at most ${limits.embedMaxInputs} per request (SUTAZAI_EMBED_MAX_INPUTS); split it`,
          { param: 'input' },
        );
      }
      let bytes = 0;
      for (const text of req.input) bytes += Buffer.byteLength(text);
      // A token id stands for a few bytes of text; 4 is a fair bound for the same budget.
      if (req.tokens) for (const t of req.tokens) bytes += 4 * t.length;
      if (bytes > limits.embedMaxBytes) {
        throw new GatewayError(
          'SUTAZAI_ERR_BODY_TOO_LARGE',
          `input: ${bytes} bytes, at most ${limits.embedMaxBytes} per request (SUTAZAI_EMBED_MAX_BYTES); split it`,
          { param: 'input' },
        );
      }
      return next(ctx);
    },
  };
}
