import { createRecorder, type Recording } from '../../src/loadtest/recording.js';
import type { Outcome, RequestKind } from '../../src/loadtest/types.js';

/** Build a Recording from literal samples: [startMs, latencyMs, outcome?, status?]. */
export function recordingOf(
  samples: [number, number, Outcome?, number?][],
  kind: RequestKind = 'repeat',
): Recording {
  const rec = createRecorder(4);
  for (const [start, latency, outcome = 'ok', status = 200] of samples) {
    if (outcome === 'not_sent') rec.addNotSent(kind, start);
    else
      rec.add(kind, start, latency, {
        outcome,
        status,
        tokens: outcome === 'ok' ? 10 : 0,
        ttftMs: Number.NaN,
      });
  }
  return rec.finish();
}
