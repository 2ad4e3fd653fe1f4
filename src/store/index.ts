export { createStore, dropSchema, type StoreOptions } from './store.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export * from './types.js';
