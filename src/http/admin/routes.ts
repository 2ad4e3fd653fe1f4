import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { KeyService } from '../../auth/service.js';
import { GatewayError } from '../../errors/catalogue.js';
import { parseBody } from '../../errors/validation.js';
import type { ApiKeyRecord } from '../../store/keys.js';

const limit = z.number().int().min(1).max(1_000_000_000);
const models = z.array(z.string().min(1).max(256)).max(1000);
const when = z.union([z.iso.datetime({ offset: true }), z.number().int().positive()]);
const toMs = (v: string | number) => (typeof v === 'number' ? v : Date.parse(v));

const createBody = z.strictObject({
  name: z.string().min(1).max(200),
  rpm: limit.optional(),
  tpm: limit.optional(),
  concurrency: limit.optional(),
  models: models.optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  expires_at: when.optional(),
});

const updateBody = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  rpm: limit.nullable().optional(),
  tpm: limit.nullable().optional(),
  concurrency: limit.nullable().optional(),
  models: models.nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  expires_at: when.nullable().optional(),
});

const idParams = z.object({ id: z.string().regex(/^[0-9a-f]{12}$/, 'a key id is 12 hex characters') });

/** A key as the API shows it: never the hash, never the key (that is shown once, at creation). */
export function keyView(r: ApiKeyRecord, now = Date.now()) {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  const status =
    r.revokedAt !== undefined
      ? 'revoked'
      : r.expiresAt !== undefined && r.expiresAt <= now
        ? 'expired'
        : 'active';
  return {
    id: r.id,
    name: r.name,
    status,
    rpm: r.rpm ?? null,
    tpm: r.tpm ?? null,
    concurrency: r.concurrency ?? null,
    models: r.models ?? null,
    metadata: r.metadata,
    expires_at: iso(r.expiresAt),
    created_at: iso(r.createdAt),
    revoked_at: iso(r.revokedAt),
  };
}

const notFound = (id: string) => new GatewayError('SUTAZAI_ERR_NOT_FOUND', `API key '${id}' not found`);

/** /api/v1/admin/keys: create (the key is in the answer, once), list, get, update, revoke. Admin key only. */
export function adminRoutes(keys: KeyService): FastifyPluginAsync {
  return async (app) => {
    const admin = { config: { admin: true } };

    app.post('/api/v1/admin/keys', admin, async (req, reply) => {
      const b = parseBody(createBody, req.body);
      const { record, key } = await keys.create({
        name: b.name,
        ...(b.rpm !== undefined ? { rpm: b.rpm } : {}),
        ...(b.tpm !== undefined ? { tpm: b.tpm } : {}),
        ...(b.concurrency !== undefined ? { concurrency: b.concurrency } : {}),
        ...(b.models !== undefined ? { models: b.models } : {}),
        ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
        ...(b.expires_at !== undefined ? { expiresAt: toMs(b.expires_at) } : {}),
      });
      return reply.code(201).send({ ...keyView(record), key });
    });

    app.get('/api/v1/admin/keys', admin, async () => {
      const list = await keys.list();
      return { keys: list.map((r) => keyView(r)), count: list.length };
    });

    app.get('/api/v1/admin/keys/:id', admin, async (req) => {
      const { id } = parseBody(idParams, req.params);
      const r = await keys.get(id);
      if (!r) throw notFound(id);
      return keyView(r);
    });

    app.patch('/api/v1/admin/keys/:id', admin, async (req) => {
      const { id } = parseBody(idParams, req.params);
      const b = parseBody(updateBody, req.body);
      const r = await keys.update(id, {
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.rpm !== undefined ? { rpm: b.rpm } : {}),
        ...(b.tpm !== undefined ? { tpm: b.tpm } : {}),
        ...(b.concurrency !== undefined ? { concurrency: b.concurrency } : {}),
        ...(b.models !== undefined ? { models: b.models } : {}),
        ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
        ...(b.expires_at !== undefined
          ? { expiresAt: b.expires_at === null ? null : toMs(b.expires_at) }
          : {}),
      });
      if (!r) throw notFound(id);
      return keyView(r);
    });

    app.delete('/api/v1/admin/keys/:id', admin, async (req) => {
      const { id } = parseBody(idParams, req.params);
      const r = await keys.revoke(id);
      if (!r) throw notFound(id);
      return keyView(r);
    });
  };
}
