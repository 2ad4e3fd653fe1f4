import type { ModelInfo } from './types.js';

/*
 * Model names as clients write them, resolved against the upstreams' model list. Every surface
 * answers "model not found" the same way because they all look names up here.
 */

/** `llama3` finds `llama3:latest`, as Ollama resolves a bare name. */
export function findModel(models: readonly ModelInfo[], id: string): ModelInfo | undefined {
  return models.find((m) => m.name === id) ?? models.find((m) => m.name === `${id}:latest`);
}
