import { GatewayError } from '../errors/catalogue.js';
import type { Stage } from '../pipeline/pipeline.js';
import type { Caller } from '../pipeline/types.js';

function check(caller: Caller, model: string): void {
  const allowed = caller.key?.models;
  if (allowed !== undefined && !allowed.has(model)) {
    throw new GatewayError('SUTAZAI_ERR_FORBIDDEN', `this API key may not use model '${model}'`, {
      param: 'model',
    });
  }
}

/**
 * 403 for a model the caller's key may not use (its `models` list), before any limit is counted or
 * the cache is read. Keys without a list, the admin key and anonymous callers pass untouched.
 */
export function keyModelsStage(): Stage {
  return {
    name: 'key-models',
    generate(req, ctx, next) {
      check(ctx.caller, req.model);
      return next();
    },
    embed(req, ctx, next) {
      check(ctx.caller, req.model);
      return next();
    },
  };
}
