import type { Queryable } from './driver.js';

/** An API key as the store keeps it: never the key itself, only its SHA-256 (hex). */
export interface ApiKeyRecord {
  id: string;
  name: string;
  keyHash: string;
  /** Requests per minute; undefined = no limit. */
  rpm?: number;
  /** Prompt + completion tokens per minute; undefined = no limit. */
  tpm?: number;
  /** Requests in flight at once; undefined = no limit. */
  concurrency?: number;
  /** Models this key may use; undefined = all. */
  models?: string[];
  metadata: Record<string, unknown>;
  /** Epoch ms. */
  expiresAt?: number;
  createdAt: number;
  revokedAt?: number;
}

/** What an update may change (null clears a limit). */
export interface ApiKeyPatch {
  name?: string;
  rpm?: number | null;
  tpm?: number | null;
  concurrency?: number | null;
  models?: string[] | null;
  metadata?: Record<string, unknown>;
  expiresAt?: number | null;
}

export interface KeyRepository {
  create(record: ApiKeyRecord): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Newest first, revoked ones included. */
  list(): Promise<ApiKeyRecord[]>;
  update(id: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | undefined>;
  /** Marks the key revoked (kept for the usage log); undefined when no such key. */
  revoke(id: string): Promise<ApiKeyRecord | undefined>;
}

interface KeyRow {
  id: string;
  name: string;
  key_hash: string;
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
  models: string[] | null;
  metadata: Record<string, unknown> | null;
  expires_at: Date | null;
  created_at: Date;
  revoked_at: Date | null;
}

const COLUMNS =
  'id, name, key_hash, rpm, tpm, concurrency, models, metadata, expires_at, created_at, revoked_at';

function toRecord(r: KeyRow): ApiKeyRecord {
  const rec: ApiKeyRecord = {
    id: r.id,
    name: r.name,
    keyHash: r.key_hash,
    metadata: r.metadata ?? {},
    createdAt: r.created_at.getTime(),
  };
  if (r.rpm !== null) rec.rpm = r.rpm;
  if (r.tpm !== null) rec.tpm = r.tpm;
  if (r.concurrency !== null) rec.concurrency = r.concurrency;
  if (r.models !== null) rec.models = r.models;
  if (r.expires_at !== null) rec.expiresAt = r.expires_at.getTime();
  if (r.revoked_at !== null) rec.revokedAt = r.revoked_at.getTime();
  return rec;
}

const ts = (ms: number | null | undefined) =>
  ms === undefined || ms === null ? null : new Date(ms).toISOString();

/** Column → value for the fields a patch sets (undefined = leave as is). */
function patchColumns(p: ApiKeyPatch): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  if (p.name !== undefined) out.push(['name', p.name]);
  if (p.rpm !== undefined) out.push(['rpm', p.rpm]);
  if (p.tpm !== undefined) out.push(['tpm', p.tpm]);
  if (p.concurrency !== undefined) out.push(['concurrency', p.concurrency]);
  if (p.models !== undefined) out.push(['models', p.models]);
  if (p.metadata !== undefined) out.push(['metadata', JSON.stringify(p.metadata)]);
  if (p.expiresAt !== undefined) out.push(['expires_at', ts(p.expiresAt)]);
  return out;
}

export function createKeyRepository(db: Queryable): KeyRepository {
  return {
    async create(r) {
      await db.query(
        `INSERT INTO api_keys (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11)`,
        [
          r.id,
          r.name,
          r.keyHash,
          r.rpm ?? null,
          r.tpm ?? null,
          r.concurrency ?? null,
          r.models ?? null,
          JSON.stringify(r.metadata),
          ts(r.expiresAt),
          ts(r.createdAt),
          ts(r.revokedAt),
        ],
      );
    },
    async get(id) {
      const rows = await db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
      return rows[0] === undefined ? undefined : toRecord(rows[0]);
    },
    async list() {
      const rows = await db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at DESC, id`);
      return rows.map(toRecord);
    },
    async update(id, patch) {
      const cols = patchColumns(patch);
      if (cols.length === 0) return this.get(id);
      const sets = cols.map(([c], i) => `${c} = $${i + 2}${c === 'metadata' ? '::jsonb' : ''}`);
      const rows = await db.query<KeyRow>(
        `UPDATE api_keys SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, ...cols.map(([, v]) => v)],
      );
      return rows[0] === undefined ? undefined : toRecord(rows[0]);
    },
    async revoke(id) {
      const rows = await db.query<KeyRow>(
        `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`,
        [id],
      );
      return rows[0] === undefined ? undefined : toRecord(rows[0]);
    },
  };
}
