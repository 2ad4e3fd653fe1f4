import { afterAll, describe, expect, it } from 'vitest';
import { createTaskService, type TaskService } from '../../src/queue/service.js';
import { createStore, type Store } from '../../src/store/index.js';
import { cleanup, finalState, silentLogger, startRig, until, type Rig } from './rig.js';
import { missing } from '../helpers/services.js';

describe.skipIf(missing('redis', 'postgres'))(
  'API process with an embedded (PGlite) store and workers elsewhere',
  () => {
    let rig: Rig | undefined;
    let api: TaskService | undefined;
    let embedded: Store | undefined;

    afterAll(async () => {
      await api?.close();
      await embedded?.close();
      await rig?.close();
      if (rig) await cleanup(rig.names);
    });

    it('copies final states the workers wrote into its own store', { timeout: 60_000 }, async () => {
      // The "worker side": consumers writing to PostgreSQL.
      rig = await startRig({ engine: 'bullmq', workers: 1 });
      const r = rig;
      // The "API side": same queue, no consumers, a private in-memory PGlite store.
      embedded = await createStore({ config: { databaseUrl: undefined, dataDir: '.' }, inMemory: true });
      const store = embedded;
      api = await createTaskService({
        config: r.config,
        logger: silentLogger,
        pipeline: {
          generate: () => Promise.reject(new Error('unused')),
          embed: () => Promise.reject(new Error('unused')),
          listModels: async () => [],
        },
        store,
        engine: { kind: 'bullmq', prefix: r.names.prefix, queueName: r.names.queueName },
      });
      const task = await api.submit({ type: 'text_generation', payload: { prompt: 'remote' } });
      const final = await finalState(api, task.task_id);
      expect(final.status).toBe('completed');
      const copied = await until(() => store.tasks.get(task.task_id));
      expect(copied).toMatchObject({ status: 'completed', result: final.result });
      expect(await r.store.tasks.get(task.task_id)).toEqual(copied);
    });
  },
);
