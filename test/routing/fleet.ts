import type { FieldName } from '../../src/config/fields.js';
import { startSimulator } from '../../src/sim/server.js';
import type { SimHandle, SimOptions } from '../../src/sim/types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { getJson, postJson } from '../helpers/http.js';

/** Several simulators behind one gateway, each upstream entry with its own `;options`. */
export interface Fleet {
  sims: SimHandle[];
  gw: TestGateway;
  /** `/api/v1/agents`, in configured order. */
  agents(): Promise<Agent[]>;
  /** POST /api/chat (Ollama surface), non-streaming. */
  chat(model: string, content: string, extra?: Record<string, unknown>): ReturnType<typeof postJson>;
  close(): Promise<void>;
}

export interface Agent {
  id: string;
  status: string;
  slots: number;
  load: number;
  loaded_models: Array<{ name: string; expires_at?: string }> | null;
  breaker: { state: string; failures: number; opened: number; retry_at?: string; reason?: string };
  retries: number;
}

export interface FleetMember {
  sim?: Partial<SimOptions>;
  /** `;slots=1;models=a|b` and the like, appended to the upstream entry. */
  options?: string;
}

export async function startFleet(
  members: FleetMember[],
  gateway: Partial<Record<FieldName, unknown>> = {},
): Promise<Fleet> {
  const sims = await Promise.all(
    members.map((m) => startSimulator({ port: 0, models: ['llama3.2'], embedModels: [], ...m.sim })),
  );
  const upstreams = sims.map((s, i) => `ollama=${s.url};id=u${i}${members[i]?.options ?? ''}`);
  const gw = await startTestGateway({
    upstreams,
    cacheMode: 'off',
    healthIntervalMs: 200,
    ...gateway,
  });
  return {
    sims,
    gw,
    agents: async () => (await getJson(`${gw.url}/api/v1/agents`)).json as unknown as Agent[],
    chat: (model, content, extra = {}) =>
      postJson(`${gw.url}/api/chat`, {
        model,
        messages: [{ role: 'user', content }],
        stream: false,
        ...extra,
      }),
    async close() {
      await gw.close();
      await Promise.all(sims.map((s) => s.close()));
    },
  };
}

/** Requests that each simulator received on `path`. */
export function received(sims: SimHandle[], path = '/api/chat'): number[] {
  return sims.map((s) => s.stats().requests[path] ?? 0);
}
