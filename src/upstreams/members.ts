import type { Config } from '../config/config.js';
import { Member } from './member.js';
import type { UpstreamAdapter } from './types.js';

/** One Member (live routing and health state) per adapter, with the breaker settings of `config`. */
export function createMembers(
  adapters: readonly UpstreamAdapter[],
  config: Pick<Config, 'breakerFailures' | 'breakerBackoffMs' | 'breakerMaxBackoffMs' | 'upstreamSlots'>,
): Member[] {
  const breaker = {
    failures: config.breakerFailures,
    backoffMs: config.breakerBackoffMs,
    maxBackoffMs: config.breakerMaxBackoffMs,
  };
  return adapters.map((a) => new Member(a, breaker, config.upstreamSlots));
}
