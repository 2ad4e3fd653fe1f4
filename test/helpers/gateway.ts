import { loadConfig, type Config } from '../../src/config/config.js';
import type { FieldName } from '../../src/config/fields.js';
import { startGateway, type RunningGateway } from '../../src/cli/serve.js';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle, SimOptions } from '../../src/sim/types.js';

export { TEST_DATABASE_URL, TEST_REDIS_URL } from './services.js';

export interface TestGateway extends RunningGateway {
  config: Config;
}

/** A real gateway on a free port. `upstreams` like ['ollama=http://...']. */
export async function startTestGateway(
  overrides: Partial<Record<FieldName, unknown>> = {},
): Promise<TestGateway> {
  const config = loadConfig({
    env: {},
    overrides: { host: '127.0.0.1', port: 0, logLevel: 'silent', shutdownGraceMs: 2000, ...overrides },
  });
  const gw = await startGateway(config);
  return { ...gw, config };
}

export interface Stack {
  sim: SimHandle;
  gw: TestGateway;
  close(): Promise<void>;
}

/** Simulator + gateway in front of it (Ollama kind unless told otherwise). */
export async function startStack(
  opts: {
    sim?: Partial<SimOptions>;
    kind?: 'ollama' | 'openai';
    gateway?: Partial<Record<FieldName, unknown>>;
  } = {},
): Promise<Stack> {
  const sim = await startSimulator({
    port: 0,
    models: ['tinyllama', 'llama3.2'],
    embedModels: ['nomic-embed-text'],
    ...opts.sim,
  });
  const kind = opts.kind ?? 'ollama';
  const url = kind === 'openai' ? `${sim.url}/v1` : sim.url;
  const gw = await startTestGateway({ upstreams: [`${kind}=${url}`], ...opts.gateway });
  return {
    sim,
    gw,
    async close() {
      await gw.close();
      await sim.close();
    },
  };
}
