import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAYLOAD_SHAPES, TASK_TYPES, TASKS } from '../../src/queue/registry.js';
import { startStack, type Stack } from '../helpers/gateway.js';
import { getJson, postJson, waitFor } from '../helpers/http.js';

const DOC = path.resolve(import.meta.dirname, '../../docs/tasks.md');

/** Each `## type` section's payload line and JSON example. */
async function docSections(): Promise<Map<string, { shape: string; example: Record<string, unknown> }>> {
  const text = await readFile(DOC, 'utf8');
  const out = new Map<string, { shape: string; example: Record<string, unknown> }>();
  for (const section of text.split(/^## /m).slice(1)) {
    const name = section.split('\n', 1)[0]!.trim();
    const shape = /^Payload: `(.*)`$/m.exec(section)?.[1];
    const json = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
    if (shape && json) out.set(name, { shape, example: JSON.parse(json) as Record<string, unknown> });
  }
  return out;
}

describe('task payloads: docs/tasks.md, the schemas and the 400s agree', () => {
  let stack: Stack;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'sutazai-taskdocs-'));
    stack = await startStack({ gateway: { dataDir, taskConcurrency: 1 } });
  });
  afterAll(async () => {
    await stack.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('documents every task type with the shape the 400 quotes and an example that validates', async () => {
    const docs = await docSections();
    expect([...docs.keys()].sort()).toEqual([...TASK_TYPES].sort());
    for (const type of TASK_TYPES) {
      const d = docs.get(type)!;
      expect(d.shape).toBe(PAYLOAD_SHAPES[type]);
      expect(d.example.task_type).toBe(type);
      expect(TASKS[type].schema.safeParse(d.example.payload).success, type).toBe(true);
    }
  });

  it('every documented example runs to completion over HTTP', async () => {
    for (const [type, { example }] of await docSections()) {
      const r = await postJson(`${stack.gw.url}/api/v1/tasks`, example);
      expect(r.status, `${type}: ${r.text}`).toBe(202);
      const id = r.json.task_id as string;
      await waitFor(
        async () => (await getJson(`${stack.gw.url}/api/v1/tasks/${id}`)).json.status === 'completed',
        15_000,
        `${type} task to complete`,
      );
    }
  });

  it.each(TASK_TYPES)('a wrong %s payload is a 400 naming the field and the expected shape', async (type) => {
    const r = await postJson(`${stack.gw.url}/api/v1/tasks`, { task_type: type, payload: { wrong: 1 } });
    expect(r.status).toBe(400);
    const field = { text_generation: 'prompt', chat: 'messages', embedding: 'input', batch: 'prompts' }[type];
    expect(r.json.error).toMatchObject({ code: 'SUTAZAI_ERR_VALIDATION', param: `payload.${field}` });
    expect(r.json.error?.message).toContain(`${type} expects payload ${PAYLOAD_SHAPES[type]}`);
  });
});
