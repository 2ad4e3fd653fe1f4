import type { Config } from '../config/config.js';
import type { ModelRouter } from '../pipeline/pipeline.js';
import {
  createAdmission,
  type Admission,
  type AdmissionObserver,
  type AdmissionSettings,
} from './controller.js';

/**
 * Where a model's slot count comes from: the router (sum of the slots of the healthy upstreams that
 * serve it), else SUTAZAI_UPSTREAM_SLOTS for a router that does not report capacity.
 */
export interface CapacitySource {
  capacity?(model: string): number;
}

/** Service time assumed for a model before its first answer has been timed. */
const PRIOR_SERVICE_MS = 1000;

export function admissionSettings(config: Config): AdmissionSettings {
  return {
    timeoutMs: {
      interactive: config.queueTimeoutMs,
      batch: config.queueBatchTimeoutMs,
      background: config.queueBatchTimeoutMs,
    },
    maxQueue: config.queueMax,
    interactiveReserve: config.queueInteractiveReserve,
    processes: config.admissionProcesses,
    priorServiceMs: PRIOR_SERVICE_MS,
  };
}

export function createAdmissionFromConfig(
  config: Config,
  router: ModelRouter & CapacitySource,
  observer?: AdmissionObserver,
): Admission {
  const fallback = config.upstreamSlots;
  return createAdmission({
    capacity: (model) => router.capacity?.(model) ?? fallback,
    settings: admissionSettings(config),
    ...(observer ? { observer } : {}),
  });
}
