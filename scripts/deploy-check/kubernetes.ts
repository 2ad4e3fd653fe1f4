import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { checkSutazaiProcess, shutdownBudgetMs } from './sutazai-env.js';

/*
 * Kubernetes manifests checked offline, without a cluster or a binary download:
 * 1. schema: each object through its kubernetes-models class's validate() (the API's OpenAPI
 *    schema: types, required fields, formats);
 * 2. unknown fields: the same package's TypeScript types with the compiler's excess-property check
 *    (validate() lets `readinesProbe:` through; kubectl --validate=strict would not);
 * 3. references: selectors, probe ports, ConfigMap/Secret names, HPA targets, shutdown budget, and
 *    the SutazAI configuration each container gets.
 */

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

export interface ManifestFile {
  file: string;
  text: string;
}

/** apiVersion → module of kubernetes-models ("v1" → "kubernetes-models/v1"). */
const modulePath = (apiVersion: string) => `kubernetes-models/${apiVersion}`;

export async function checkKubernetes(root: string, files: ManifestFile[]): Promise<string[]> {
  const problems: string[] = [];
  const objects: Array<{ where: string; obj: K8sObject }> = [];
  for (const { file, text } of files) {
    parseAllDocuments(text).forEach((d, i) => {
      if (d.errors.length > 0) problems.push(`${file}#${i}: ${d.errors[0]?.message ?? 'YAML error'}`);
      const obj = d.toJS() as K8sObject | null;
      if (obj) objects.push({ where: `${file}#${i} ${obj.kind}/${obj.metadata?.name ?? '?'}`, obj });
    });
  }
  for (const { where, obj } of objects) problems.push(...(await schemaCheck(where, obj)));
  problems.push(...strictFields(root, objects));
  problems.push(...references(objects.map((o) => o.obj)));
  return problems;
}

async function schemaCheck(where: string, obj: K8sObject): Promise<string[]> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(modulePath(obj.apiVersion))) as Record<string, unknown>;
  } catch {
    return [`${where}: unknown apiVersion ${obj.apiVersion}`];
  }
  const Model = mod[obj.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (!Model) return [`${where}: unknown kind ${obj.kind} in ${obj.apiVersion}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (err) {
    return [`${where}: ${(err as Error).message}`];
  }
}

function strictFields(root: string, objects: Array<{ where: string; obj: K8sObject }>): string[] {
  const dir = path.join(root, 'node_modules', '.cache', 'sutazai-check-deploy');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'manifests.mts');
  const lines = objects.map(
    ({ obj }, i) =>
      `export const o${i}: import('${modulePath(obj.apiVersion)}/${obj.kind}').I${obj.kind} = ${JSON.stringify(obj)};`,
  );
  writeFileSync(file, lines.join('\n'));
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  });
  const source = program.getSourceFile(file);
  return ts.getPreEmitDiagnostics(program, source).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const msg = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    return `${objects[line]?.where ?? 'manifests'}: ${msg.replace(/Object literal may only specify known properties, and /, '').replace(/'"([^"]+)"'/g, "'$1'")}`;
  });
}

type Container = {
  name: string;
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  readinessProbe?: { httpGet?: { path?: string; port: string | number } };
  livenessProbe?: { httpGet?: { path?: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
};
type PodTemplate = {
  metadata?: { labels?: Record<string, string> };
  spec: { containers: Container[]; terminationGracePeriodSeconds?: number };
};

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> = {}) =>
  !!selector && Object.entries(selector).every(([k, v]) => labels[k] === v);

function references(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const name = (o: K8sObject) => o.metadata?.name ?? '?';
  const deployments = byKind('Deployment').map((d) => ({
    d,
    template: (d.spec as { template: PodTemplate }).template,
  }));
  const configMaps = new Map(
    byKind('ConfigMap').map((c) => [name(c), (c.data ?? {}) as Record<string, string>]),
  );
  const secrets = new Map(
    byKind('Secret').map((s) => [
      name(s),
      {
        ...(s.stringData as Record<string, string> | undefined),
        ...(s.data as Record<string, string> | undefined),
      },
    ]),
  );

  for (const { d, template } of deployments) {
    const sel = (d.spec as { selector: { matchLabels?: Record<string, string> } }).selector.matchLabels;
    if (!matches(sel, template.metadata?.labels))
      problems.push(`Deployment/${name(d)}: selector does not match its pods`);
    for (const c of template.spec.containers) {
      const where = `Deployment/${name(d)} container ${c.name}`;
      const env: Record<string, string> = {};
      for (const from of c.envFrom ?? []) {
        const ref = from.configMapRef?.name ?? from.secretRef?.name ?? '';
        const data = from.configMapRef ? configMaps.get(ref) : secrets.get(ref);
        if (!data)
          problems.push(
            `${where}: envFrom names a missing ${from.configMapRef ? 'ConfigMap' : 'Secret'} '${ref}'`,
          );
        Object.assign(env, data ?? {});
      }
      for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
      const found = checkSutazaiProcess(where, env, c.args ?? []);
      problems.push(...found);
      for (const probe of [c.readinessProbe, c.livenessProbe]) {
        const port = probe?.httpGet?.port;
        if (typeof port === 'string' && !c.ports?.some((p) => p.name === port))
          problems.push(`${where}: probe port '${port}' is not a named container port`);
      }
      if (c.args?.[0] === 'serve') {
        if (c.readinessProbe?.httpGet?.path !== '/ready')
          problems.push(`${where}: readiness probe must be GET /ready`);
        if (!c.livenessProbe?.httpGet) problems.push(`${where}: no HTTP liveness probe`);
      }
      if (found.length === 0 && (c.args?.[0] === 'serve' || c.args?.[0] === 'worker')) {
        const budgetS = shutdownBudgetMs(env) / 1000;
        const grace = template.spec.terminationGracePeriodSeconds ?? 30;
        if (grace <= budgetS)
          problems.push(
            `${where}: terminationGracePeriodSeconds ${grace} must exceed drain + grace (${budgetS} s)`,
          );
      }
      if (!c.resources?.requests?.cpu || !c.resources.requests.memory)
        problems.push(`${where}: no CPU/memory requests (the scheduler and the HPA need them)`);
    }
  }
  for (const s of byKind('Service')) {
    const sel = (s.spec as { selector?: Record<string, string> }).selector;
    if (!deployments.some(({ template }) => matches(sel, template.metadata?.labels)))
      problems.push(`Service/${name(s)}: selector matches no Deployment's pods`);
  }
  for (const p of byKind('PodDisruptionBudget')) {
    const sel = (p.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels;
    if (!deployments.some(({ template }) => matches(sel, template.metadata?.labels)))
      problems.push(`PodDisruptionBudget/${name(p)}: selector matches no Deployment's pods`);
  }
  for (const h of byKind('HorizontalPodAutoscaler')) {
    const ref = (h.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef;
    if (!objects.some((o) => o.kind === ref.kind && name(o) === ref.name))
      problems.push(`HorizontalPodAutoscaler/${name(h)}: target ${ref.kind}/${ref.name} does not exist`);
  }
  return problems;
}
