import { createHash } from 'node:crypto';

export interface SimModel {
  /** Normalized name with tag, e.g. "llama3.2:latest". */
  name: string;
  kind: 'chat' | 'embed';
  digest: string;
  size: number;
  family: string;
  modifiedAt: string;
  created: number;
}

/** `name` → `name:latest` when the name has no tag (a tag follows the last '/'). */
export function withTag(name: string): string {
  const slash = name.lastIndexOf('/');
  return name.indexOf(':', slash + 1) >= 0 ? name : name + ':latest';
}

export interface ModelRegistry {
  readonly all: readonly SimModel[];
  find(name: string): SimModel | undefined;
  /** Add a model (pull, copy, create); `like` = copy its kind. Returns the new model. */
  add(name: string, kind: SimModel['kind']): SimModel;
  /** Remove a model (delete); false when there was none. */
  remove(name: string): boolean;
}

export function createModelRegistry(chat: readonly string[], embed: readonly string[]): ModelRegistry {
  const started = new Date();
  const byName = new Map<string, SimModel>();
  let all: SimModel[] | undefined;
  const add = (raw: string, kind: SimModel['kind']): void => {
    const name = withTag(raw);
    if (byName.has(name)) return;
    all = undefined;
    const digest = createHash('sha256').update(`sutazai-sim:${name}`).digest('hex');
    const base = name.slice(name.lastIndexOf('/') + 1).split(':')[0] ?? name;
    byName.set(name, {
      name,
      kind,
      digest,
      size: kind === 'embed' ? 274_302_450 : 2_019_393_189,
      family: (/^[a-z]+/i.exec(base)?.[0] ?? 'sim').toLowerCase(),
      modifiedAt: started.toISOString(),
      created: Math.floor(started.getTime() / 1000),
    });
  };
  for (const m of chat) add(m, 'chat');
  for (const m of embed) add(m, 'embed');
  return {
    get all() {
      return (all ??= [...byName.values()]);
    },
    find: (name) => byName.get(withTag(name)),
    add(name, kind) {
      add(name, kind);
      return byName.get(withTag(name)) as SimModel;
    },
    remove(name) {
      all = undefined;
      return byName.delete(withTag(name));
    },
  };
}

/** The `details` object Ollama returns for a model. */
export function modelDetails(m: SimModel): Record<string, unknown> {
  return {
    parent_model: '',
    format: 'gguf',
    family: m.family,
    families: [m.family],
    parameter_size: m.kind === 'embed' ? '137M' : '3.2B',
    quantization_level: m.kind === 'embed' ? 'F16' : 'Q4_K_M',
  };
}
