export { createStore, dropSchema, openStore, type StoreOptions } from './store.js';
export type { LazyStore } from './lazy.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export * from './types.js';
export type { ApiKeyPatch, ApiKeyRecord, KeyRepository } from './keys.js';
export type { UsageAggregate, UsageGroupBy, UsageQuery, UsageRepository, UsageRow } from './usage.js';
