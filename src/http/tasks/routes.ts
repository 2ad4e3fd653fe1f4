import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GatewayError } from '../../errors/catalogue.js';
import type { TaskInput } from '../../queue/registry.js';
import type { TaskService, TaskStats } from '../../queue/service.js';
import { TASK_STATUSES } from '../../store/types.js';
import { parseBody, zodToGatewayError } from '../../errors/validation.js';
import { openRawStream } from '../stream/raw.js';
import { SSE_CONTENT_TYPE, sseEvent } from '../stream/frames.js';

const submitBody = z.object({
  task_type: z.string().min(1),
  payload: z.unknown(),
  priority: z.number().int().min(0).max(10).optional(),
  callback_url: z.string().optional(),
});

const listQuery = z.object({
  status: z.enum(TASK_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** Task ids are ours (UUIDs); anything else — a NUL, a slash, 10 KB — is refused by name. */
const idParams = z.object({
  id: z.string().regex(/^[\w.:-]{1,128}$/, 'a task id is 1-128 letters, digits, "-", "_", "." or ":"'),
});

/** Comment lines keep idle event streams alive through proxies. */
const SSE_PING_MS = 15_000;

const notFound = (id: string) => new GatewayError('SUTAZAI_ERR_NOT_FOUND', `task '${id}' not found`);

function statsBody(s: TaskStats) {
  return {
    engine: s.engine,
    workers: s.workers,
    depth: s.depth,
    delayed: s.delayed,
    active: s.active,
    completed: s.completed,
    failed: s.failed,
    cancelled: s.cancelled,
    retried: s.retried,
    wait_ms: s.waitMs,
    run_ms: s.runMs,
  };
}

/** The key whose tasks a request may see: its own; undefined = all (the admin key, or auth off). */
const ownerScope = (req: FastifyRequest) => {
  const p = req.sutazaiPrincipal;
  return p === null || p.admin ? undefined : p.keyId;
};

/** /api/v1/tasks: submit, read, watch (SSE), list and cancel background tasks. */
export function tasksRoutes(tasks: TaskService): FastifyPluginAsync {
  /** 404 (not 403: another key's task ids are not confirmed) unless the caller may see it. */
  async function checkOwner(req: FastifyRequest, id: string) {
    const scope = ownerScope(req);
    if (scope !== undefined && (await tasks.ownerOf(id)) !== scope) throw notFound(id);
  }
  return async (app: FastifyInstance) => {
    app.post('/api/v1/tasks', async (req, reply) => {
      const body = parseBody(submitBody, req.body);
      const view = await tasks.submit(
        {
          type: body.task_type,
          payload: body.payload,
          ...(body.priority !== undefined ? { priority: body.priority } : {}),
          ...(body.callback_url !== undefined ? { callbackUrl: body.callback_url } : {}),
        } as TaskInput,
        req.sutazaiPrincipal?.keyId,
      );
      return reply.code(202).header('location', `/api/v1/tasks/${view.task_id}`).send(view);
    });

    app.get('/api/v1/tasks', async (req) => {
      const q = listQuery.safeParse(req.query);
      if (!q.success) throw zodToGatewayError(q.error);
      const owner = ownerScope(req);
      const list = await tasks.list({
        ...(owner !== undefined ? { owner } : {}),
        ...(q.data.status !== undefined ? { status: q.data.status } : {}),
        ...(q.data.limit !== undefined ? { limit: q.data.limit } : {}),
      });
      return { tasks: list, count: list.length };
    });

    app.get('/api/v1/tasks/stats', async () => statsBody(await tasks.stats()));

    app.get('/api/v1/tasks/:id', async (req) => {
      const { id } = parseBody(idParams, req.params);
      await checkOwner(req, id);
      const view = await tasks.get(id);
      if (!view) throw notFound(id);
      return view;
    });

    app.delete('/api/v1/tasks/:id', async (req) => {
      const { id } = parseBody(idParams, req.params);
      await checkOwner(req, id);
      const view = await tasks.cancel(id);
      if (!view) throw notFound(id);
      return view;
    });

    // One `status` event per change (data = the task as GET returns it); the last one carries the
    // result or error, then the stream ends.
    app.get('/api/v1/tasks/:id/events', async (req, reply) => {
      const { id } = parseBody(idParams, req.params);
      await checkOwner(req, id);
      if (!(await tasks.get(id))) throw notFound(id);
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const stream = openRawStream(reply, SSE_CONTENT_TYPE);
      const ping = setInterval(() => void stream.write(': ping\n\n'), SSE_PING_MS);
      try {
        for await (const view of tasks.events(id, gone.signal)) {
          await stream.write(sseEvent('status', view));
        }
      } catch (err) {
        const e =
          err instanceof GatewayError ? err : new GatewayError('SUTAZAI_ERR_INTERNAL', 'internal error');
        req.log.warn({ err, taskId: id }, 'task event stream failed');
        await stream.write(sseEvent('error', { error: { code: e.code, message: e.publicMessage } }));
      } finally {
        clearInterval(ping);
        stream.end();
      }
    });
  };
}
