// Offline checks of the deployment files, run in CI (`npm run check:deploy`): docker-compose.yml
// (like `docker compose config`: interpolation + the Compose Specification schema + references)
// and deploy/kubernetes/*.yaml (kubernetes-models schemas, unknown fields, references).
// Prints every problem; exit 1 if there is any.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkCompose } from './deploy-check/compose.js';
import { parseEnvFile } from './deploy-check/interpolate.js';
import { checkKubernetes } from './deploy-check/kubernetes.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (f: string) => readFileSync(path.join(root, f), 'utf8');

// As a user would run it: .env copied from the example.
const composeEnv = parseEnvFile(read('deploy/compose/.env.example'));
const compose = checkCompose({ root, text: read('docker-compose.yml'), env: composeEnv });
// The one secret must be required, not defaulted: without .env, interpolation must refuse.
const noEnv = checkCompose({ root, text: read('docker-compose.yml'), env: {} });
if (!noEnv.some((p) => p.includes('POSTGRES_PASSWORD')))
  compose.push('POSTGRES_PASSWORD must be required (${POSTGRES_PASSWORD:?...}), never defaulted');

const k8sDir = 'deploy/kubernetes';
const k8sFiles = readdirSync(path.join(root, k8sDir))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => ({ file: `${k8sDir}/${f}`, text: read(`${k8sDir}/${f}`) }));
const k8s = await checkKubernetes(root, k8sFiles);

for (const [what, problems] of [
  ['docker-compose.yml', compose],
  [`${k8sDir} (${k8sFiles.length} files)`, k8s],
] as const) {
  console.log(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${what}`);
  for (const p of problems) console.log(`     ${p}`);
}
process.exit(compose.length + k8s.length === 0 ? 0 : 1);
