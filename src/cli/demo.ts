import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { startSimulator } from '../sim/server.js';
import { closeOnSignals, startGateway } from './serve.js';

/** `sutazai demo`: a simulator and a gateway wired together, with curl lines to try. */
export async function runDemoCli(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '10010' },
      'sim-port': { type: 'string', default: '0' },
      tps: { type: 'string', default: '40' },
    },
  });
  const sim = await startSimulator({
    port: Number(values['sim-port']),
    models: ['tinyllama', 'llama3.2'],
    embedModels: ['nomic-embed-text'],
    tps: Number(values.tps),
    ttftMs: 50,
    parallel: 4,
  });
  const config = loadConfig({
    env: process.env,
    overrides: { port: Number(values.port), upstreams: [`ollama=${sim.url}`], logLevel: 'warn' },
  });
  const gw = await startGateway(config);
  const u = gw.url;
  process.stdout.write(`
SutazAI demo: gateway ${u}  →  simulator ${sim.url} (models tinyllama, llama3.2, nomic-embed-text)

Try:
  curl -s ${u}/health | jq
  curl -s ${u}/api/v1/chat -H 'content-type: application/json' -d '{"message":"Hello, how are you?"}' | jq
  curl -sN ${u}/api/v1/chat/stream -H 'content-type: application/json' -d '{"message":"Tell me a story"}'
  curl -s ${u}/api/v1/batch -H 'content-type: application/json' -d '{"prompts":["one","two","three"]}' | jq
  curl -s ${u}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"llama3.2","messages":[{"role":"user","content":"Hi"}]}' | jq
  curl -s ${u}/api/chat -d '{"model":"llama3.2","messages":[{"role":"user","content":"Hi"}]}'
  curl -s ${u}/api/v1/models | jq

Ctrl+C to stop.
`);
  closeOnSignals(
    async () => {
      await gw.close();
      await sim.close();
    },
    (m) => process.stdout.write(`${m}\n`),
  );
}
