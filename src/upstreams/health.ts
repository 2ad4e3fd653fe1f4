import { isGatewayError } from '../errors/catalogue.js';
import type { UpstreamHealth } from './types.js';

/**
 * Runs one probe and reports it as UpstreamHealth (never throws): ok + latency + version, or
 * ok:false with the reason. `probe` resolves to the upstream's version when it reports one.
 */
export async function healthCheck(probe: () => Promise<string | undefined>): Promise<UpstreamHealth> {
  const started = performance.now();
  try {
    const version = await probe();
    const latencyMs = elapsed(started);
    return version === undefined ? { ok: true, latencyMs } : { ok: true, latencyMs, version };
  } catch (err) {
    const error = isGatewayError(err) ? `${err.code}: ${err.message}` : String(err);
    return { ok: false, latencyMs: elapsed(started), error };
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
