import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { KeyService } from './service.js';

const CHANNEL = 'sutazai:keys:changed';

/**
 * Key changes announced to every gateway process over Redis pub/sub: a revocation or new limit
 * reaches all processes at once. Without Redis (or while it is away) the key cache's expiry
 * (SUTAZAI_KEY_CACHE_MS) bounds how long a process may use what it knew.
 */
export function connectKeyInvalidation(
  keys: KeyService,
  opts: { redisUrl: string; logger: FastifyBaseLogger },
): { close(): Promise<void> } {
  const options = { maxRetriesPerRequest: 1, enableOfflineQueue: true };
  const pub = new Redis(opts.redisUrl, options);
  const sub = new Redis(opts.redisUrl, options);
  const quiet = (err: unknown) => opts.logger.debug({ err }, 'key invalidation channel: redis error');
  pub.on('error', quiet);
  sub.on('error', quiet);
  sub.subscribe(CHANNEL).catch(quiet);
  sub.on('message', (_channel: string, id: string) => keys.forget(id));
  keys.onChange = (id) => {
    pub.publish(CHANNEL, id).catch((err: unknown) => {
      opts.logger.warn(
        { err, keyId: id },
        'could not announce a key change; other processes see it within SUTAZAI_KEY_CACHE_MS',
      );
    });
  };
  return {
    async close() {
      delete keys.onChange;
      sub.disconnect();
      pub.disconnect();
    },
  };
}
