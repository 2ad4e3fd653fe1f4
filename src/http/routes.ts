import type { FastifyPluginAsync } from 'fastify';
import type { Gateway } from '../gateway/gateway.js';
import { anthropicRoutes } from './anthropic/routes.js';
import { adminRoutes } from './admin/routes.js';
import { cacheRoutes } from './cache/routes.js';
import { usageRoutes } from './usage/routes.js';
import { dashboardRoutes } from './dashboard/routes.js';
import { metricsRoutes } from './metrics/routes.js';
import { ollamaRoutes } from './ollama/routes.js';
import { responsesRoutes } from './responses/routes.js';
import { openaiRoutes } from './openai/routes.js';
import { tasksRoutes } from './tasks/routes.js';
import { v1Routes } from './v1/routes.js';

/** One route group: a Fastify plugin made from the gateway's services, or undefined when off. */
export interface RouteGroup {
  readonly name: string;
  plugin(gw: Gateway): FastifyPluginAsync | undefined;
}

/**
 * Every route group, registered in this order by buildApp(): the one place routes are added. A new
 * surface or admin area is a folder under src/http/ exporting one plugin, plus one entry here.
 * Each plugin is its own Fastify scope, so a surface's error and not-found handlers stay its own.
 */
export const ROUTE_GROUPS: readonly RouteGroup[] = [
  { name: 'v1', plugin: (gw) => v1Routes(gw) },
  {
    name: 'openai',
    plugin: (gw) => (app) => openaiRoutes(app, { pipeline: gw.pipeline, config: gw.config }),
  },
  { name: 'responses', plugin: (gw) => (app) => responsesRoutes(app, { pipeline: gw.pipeline }) },
  { name: 'anthropic', plugin: (gw) => (app) => anthropicRoutes(app, { pipeline: gw.pipeline }) },
  {
    name: 'ollama',
    plugin: (gw) => (app) =>
      ollamaRoutes(app, {
        pipeline: gw.pipeline,
        config: gw.config,
        admin: gw.ollamaAdmin,
        refreshModels: () => gw.refreshModels(),
      }),
  },
  { name: 'cache', plugin: (gw) => (app) => cacheRoutes(app, { cache: gw.cache }) },
  { name: 'tasks', plugin: (gw) => tasksRoutes(gw.tasks) },
  { name: 'admin', plugin: (gw) => adminRoutes(gw.keys) },
  {
    name: 'usage',
    plugin: (gw) => (gw.usage ? usageRoutes({ repo: gw.usageRepo, recorder: gw.usage }) : undefined),
  },
  { name: 'metrics', plugin: (gw) => (gw.metrics ? metricsRoutes({ metrics: gw.metrics }) : undefined) },
  { name: 'dashboard', plugin: (gw) => (gw.metrics ? dashboardRoutes() : undefined) },
];
