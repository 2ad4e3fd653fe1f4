import type { FastifyPluginAsync } from 'fastify';
import type { Gateway } from '../../gateway/gateway.js';
import { v1BatchRoutes } from './batch.js';
import { v1ChatRoutes } from './chat.js';
import { v1InfoRoutes } from './info.js';

/** The SutazAI v1 surface: /, /health, /api/v1/{status,settings,models,agents,chat,batch}. */
export function v1Routes(gw: Gateway): FastifyPluginAsync {
  return async (app) => {
    await v1InfoRoutes(app, gw);
    await v1ChatRoutes(app, gw);
    await v1BatchRoutes(app, gw);
  };
}
