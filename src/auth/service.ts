import type { FastifyBaseLogger } from 'fastify';
import { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors/catalogue.js';
import type { CallerKey } from '../pipeline/types.js';
import type { ApiKeyPatch, ApiKeyRecord, KeyRepository } from '../store/keys.js';
import { generateKey, keyIdOf, sameHash, sha256Hex } from './key-format.js';

/** Who a request comes from once its key is checked. Built once per cache refresh, not per request. */
export interface Principal {
  readonly admin: boolean;
  /** Key id; "admin" for the admin key. */
  readonly keyId: string;
  readonly key?: CallerKey;
}

export const ADMIN: Principal = Object.freeze({ admin: true, keyId: 'admin' });

export interface NewKeyInput {
  name: string;
  rpm?: number;
  tpm?: number;
  concurrency?: number;
  models?: string[];
  metadata?: Record<string, unknown>;
  expiresAt?: number;
}

export interface KeyService {
  /**
   * The principal a presented key stands for, or undefined (unknown, revoked, expired, malformed).
   * Synchronous when the key's record is cached (the usual case: no database, no promise).
   * Throws SUTAZAI_ERR_DEPENDENCY_UNAVAILABLE when the key is not cached and the store is down.
   */
  authenticate(presented: string): Principal | undefined | Promise<Principal | undefined>;
  create(input: NewKeyInput): Promise<{ record: ApiKeyRecord; key: string }>;
  list(): Promise<ApiKeyRecord[]>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  update(id: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | undefined>;
  revoke(id: string): Promise<ApiKeyRecord | undefined>;
  /** Drop a key from this process's cache (a change announced by another process). */
  forget(id: string): void;
  /** Set by the invalidation channel: tells every other process a key changed. */
  onChange?: (id: string) => void;
  readonly adminConfigured: boolean;
}

export interface KeyServiceDeps {
  repo: KeyRepository;
  /** SUTAZAI_ADMIN_KEY; undefined = no admin key. */
  adminKey: string | undefined;
  /** How long a looked-up key is trusted before it is read again (ms). */
  cacheMs: number;
  logger: FastifyBaseLogger;
  /** Retry a failed refresh this often while the store is down (ms). Default 1000. */
  retryMs?: number;
  now?: () => number;
}

interface Entry {
  record: ApiKeyRecord | null;
  principal: Principal | undefined;
  /** When to read the record again (epoch ms). */
  refreshAt: number;
}

function principalOf(r: ApiKeyRecord): Principal {
  const key: CallerKey = {
    ...(r.rpm !== undefined ? { rpm: r.rpm } : {}),
    ...(r.tpm !== undefined ? { tpm: r.tpm } : {}),
    ...(r.concurrency !== undefined ? { concurrency: r.concurrency } : {}),
    ...(r.models !== undefined ? { models: new Set(r.models) } : {}),
  };
  return Object.freeze({ admin: false, keyId: r.id, key: Object.freeze(key) });
}

export function createKeyService(deps: KeyServiceDeps): KeyService {
  const { repo, cacheMs, logger } = deps;
  const now = deps.now ?? Date.now;
  const retryMs = deps.retryMs ?? 1000;
  const adminHash = deps.adminKey ? sha256Hex(deps.adminKey) : undefined;
  // Unknown ids are cached too (as null), so guessing keys cannot hammer the database.
  const cache = new LRUCache<string, Entry>({ max: 50_000 });
  const refreshing = new Map<string, Promise<Entry>>();

  const entryOf = (record: ApiKeyRecord | undefined): Entry => ({
    record: record ?? null,
    principal: record ? principalOf(record) : undefined,
    refreshAt: now() + cacheMs,
  });

  function refresh(id: string, stale: Entry | undefined): Promise<Entry> {
    let p = refreshing.get(id);
    if (p) return p;
    p = repo.get(id).then(
      (record) => {
        const e = entryOf(record);
        cache.set(id, e);
        return e;
      },
      (err: unknown) => {
        if (stale) {
          // The store is away: keep trusting what we knew, try again shortly.
          stale.refreshAt = now() + retryMs;
          logger.warn({ err, keyId: id }, 'key store unreachable: using the cached key');
          return stale;
        }
        throw new GatewayError(
          'SUTAZAI_ERR_DEPENDENCY_UNAVAILABLE',
          'cannot check the API key: the key store is unreachable',
          { cause: err, retryAfter: 5 },
        );
      },
    );
    p = p.finally(() => refreshing.delete(id));
    refreshing.set(id, p);
    return p;
  }

  function verify(e: Entry, hash: string): Principal | undefined {
    const r = e.record;
    if (r === null || r.revokedAt !== undefined) return undefined;
    if (r.expiresAt !== undefined && r.expiresAt <= now()) return undefined;
    return sameHash(hash, r.keyHash) ? e.principal : undefined;
  }

  const service: KeyService = {
    adminConfigured: adminHash !== undefined,
    authenticate(presented) {
      const hash = sha256Hex(presented);
      if (adminHash !== undefined && sameHash(hash, adminHash)) return ADMIN;
      const id = keyIdOf(presented);
      if (id === undefined) return undefined;
      const e = cache.get(id);
      if (e !== undefined) {
        // Stale entries answer at once while one refresh runs in the background.
        if (e.refreshAt <= now()) refresh(id, e).catch(() => undefined);
        return verify(e, hash);
      }
      return refresh(id, undefined).then((fresh) => verify(fresh, hash));
    },
    async create(input) {
      const k = generateKey();
      const record: ApiKeyRecord = {
        id: k.id,
        name: input.name,
        keyHash: k.hash,
        metadata: input.metadata ?? {},
        createdAt: now(),
        ...(input.rpm !== undefined ? { rpm: input.rpm } : {}),
        ...(input.tpm !== undefined ? { tpm: input.tpm } : {}),
        ...(input.concurrency !== undefined ? { concurrency: input.concurrency } : {}),
        ...(input.models !== undefined ? { models: input.models } : {}),
        ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt } : {}),
      };
      await repo.create(record);
      changed(record.id);
      return { record, key: k.key };
    },
    list: () => repo.list(),
    get: (id) => repo.get(id),
    async update(id, patch) {
      const r = await repo.update(id, patch);
      changed(id);
      return r;
    },
    async revoke(id) {
      const r = await repo.revoke(id);
      changed(id);
      return r;
    },
    forget(id) {
      cache.delete(id);
    },
  };
  function changed(id: string) {
    cache.delete(id);
    service.onChange?.(id);
  }
  return service;
}
