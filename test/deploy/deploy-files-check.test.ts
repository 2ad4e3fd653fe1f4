import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkCompose } from '../../scripts/deploy-check/compose.js';
import { interpolate, parseEnvFile } from '../../scripts/deploy-check/interpolate.js';
import { checkKubernetes, type ManifestFile } from '../../scripts/deploy-check/kubernetes.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (f: string) => readFileSync(`${root}${f}`, 'utf8');
const composeText = read('docker-compose.yml');
const env = parseEnvFile(read('deploy/compose/.env.example'));
const k8s = (): ManifestFile[] =>
  readdirSync(`${root}deploy/kubernetes`).map((f) => ({ file: f, text: read(`deploy/kubernetes/${f}`) }));
/** The manifests with one text replacement in the file that contains it. */
const k8sWith = (from: string, to: string): ManifestFile[] => {
  const files = k8s();
  const hit = files.find((f) => f.text.includes(from));
  if (!hit) throw new Error(`no manifest contains ${from}`);
  hit.text = hit.text.replace(from, to);
  return files;
};
const composeWith = (from: string, to: string) => {
  if (!composeText.includes(from)) throw new Error(`compose file lacks ${from}`);
  return checkCompose({ root, text: composeText.replace(from, to), env });
};

describe('compose interpolation', () => {
  it('follows the Compose rules for defaults, required values and $$', () => {
    const e = { SET: 'v', EMPTY: '' };
    expect(interpolate('${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} $$SET $SET', e)).toBe('v d  d $SET v');
    expect(interpolate('${UNSET:-${SET}-x}', e)).toBe('v-x');
    expect(interpolate('${SET:+alt}${UNSET:+alt}', e)).toBe('alt');
    expect(() => interpolate('${EMPTY:?needed here}', e)).toThrow('EMPTY is missing a value: needed here');
    expect(interpolate('${EMPTY?fine when set}', e)).toBe('');
  });
});

describe('docker-compose.yml (offline equivalent of docker compose config)', () => {
  it('passes as committed', () => {
    expect(checkCompose({ root, text: composeText, env })).toEqual([]);
  });

  it('refuses to start without the database password (no secret default)', () => {
    expect(checkCompose({ root, text: composeText, env: {} }).join()).toMatch(
      /POSTGRES_PASSWORD is missing a value/,
    );
  });

  it('catches schema errors, unknown SutazAI variables, bad values and dangling references', () => {
    expect(composeWith('    restart: unless-stopped\n', '    restar: unless-stopped\n').join()).toMatch(
      /schema: \/services\/\w+ must NOT have additional properties \("restar"\)/,
    );
    expect(composeWith('      replicas: ${SUTAZAI_WORKERS:-2}', '      replicas: [2]').join()).toMatch(
      /schema: \/services\/worker\/deploy\/replicas must be integer,string/,
    );
    expect(composeWith('  environment:\n', '  environment:\n    SUTAZAI_GRACE_MS: "5"\n').join()).toMatch(
      /services.gateway: unknown variable SUTAZAI_GRACE_MS/,
    );
    expect(
      composeWith("command: [serve, --task-concurrency, '0']", "command: [serve, --port, 'http']").join(),
    ).toMatch(/services.gateway: .*port/i);
    expect(composeWith('    depends_on: [proxy]', '    depends_on: [proxi]').join()).toMatch(
      /services.loadtest.depends_on: no service 'proxi'/,
    );
    expect(composeWith('    stop_grace_period: 30s\n', '    stop_grace_period: 10s\n').join()).toMatch(
      /stop_grace_period: 10000 ms must exceed drain delay \+ shutdown grace \(22000 ms\)/,
    );
    expect(composeWith('    profiles: [sim]\n', '').join()).toMatch(/several services answer as "llm"/);
  });
});

describe(
  'Kubernetes manifests (kubernetes-models schemas, unknown fields, references)',
  { timeout: 60_000 },
  () => {
    it('pass as committed', async () => {
      expect(await checkKubernetes(root, k8s())).toEqual([]);
    });

    it('catch wrong types, unknown fields and dangling references', async () => {
      const problems = async (from: string, to: string) =>
        (await checkKubernetes(root, k8sWith(from, to))).join('\n');
      expect(
        await problems(
          '  replicas: 2\n  selector:\n    matchLabels: { app.kubernetes.io/name: sutazai, app.kubernetes.io/component: gateway }',
          '  replicas: two\n  selector:\n    matchLabels: { app.kubernetes.io/name: sutazai, app.kubernetes.io/component: gateway }',
        ),
      ).toMatch(/Deployment\/sutazai-gateway: .*replicas must be integer/);
      expect(await problems('          readinessProbe:', '          readinesProbe:')).toMatch(
        /Deployment\/sutazai-gateway: .*'readinesProbe' does not exist/,
      );
      expect(
        await problems(
          '  type: ClusterIP\n  selector: { app.kubernetes.io/name: sutazai, app.kubernetes.io/component: gateway }',
          '  type: ClusterIP\n  selector: { app.kubernetes.io/name: sutazai, app.kubernetes.io/component: gatway }',
        ),
      ).toMatch(/Service\/sutazai: selector matches no Deployment's pods/);
      expect(await problems('  SUTAZAI_LOG_LEVEL: info', '  SUTAZAI_LOG_LEVL: info')).toMatch(
        /unknown variable SUTAZAI_LOG_LEVL/,
      );
      expect(
        await problems("  SUTAZAI_SHUTDOWN_GRACE_MS: '20000'", "  SUTAZAI_SHUTDOWN_GRACE_MS: '40000'"),
      ).toMatch(/terminationGracePeriodSeconds 30 must exceed drain \+ grace \(45 s\)/);
      expect(await problems('name: sutazai-gateway }', 'name: sutazai-gw }')).toMatch(
        /HorizontalPodAutoscaler\/sutazai-gateway: target Deployment\/sutazai-gw does not exist/,
      );
    });
  },
);
