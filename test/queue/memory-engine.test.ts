import { afterEach, describe, expect, it } from 'vitest';
import { taskBehaviour } from './behaviour.js';
import { startRig, until, type Rig } from './rig.js';
import { missing } from '../helpers/services.js';

taskBehaviour('memory');

describe.skipIf(missing('postgres'))('in-process engine specifics', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('at close past the deadline, aborts running tasks and fails unrun ones in the store (not durable)', async () => {
    rig = await startRig({
      engine: 'memory',
      sim: { tps: 20 },
      workers: 1,
      config: { shutdownGraceMs: 100 },
    });
    const r = rig;
    const running = await r.service.submit({
      type: 'text_generation',
      payload: { prompt: 'slow', options: { num_predict: 2000 } },
    });
    const waiting = await r.service.submit({ type: 'text_generation', payload: { prompt: 'never' } });
    await until(() => r.sim.stats().active === 1);
    await r.service.close();
    await until(() => r.sim.stats().aborted === 1);
    for (const id of [running.task_id, waiting.task_id]) {
      expect(await r.store.tasks.get(id)).toMatchObject({
        status: 'failed',
        error: { code: 'SUTAZAI_ERR_SHUTTING_DOWN' },
      });
    }
    await expect(
      r.service.submit({ type: 'text_generation', payload: { prompt: 'late' } }),
    ).rejects.toMatchObject({
      code: 'SUTAZAI_ERR_SHUTTING_DOWN',
    });
  });
});
