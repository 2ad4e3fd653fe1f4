import { errors } from '../errors/catalogue.js';
import type { ToolDefinition } from '../pipeline/types.js';

/** Both protocols describe tools the same way: `{type:"function", function:{name, description?, parameters?}}`. */
export function wireTools(tools: ToolDefinition[]): unknown[] {
  return tools.map((t) => {
    const fn: Record<string, unknown> = { name: t.name };
    if (t.description !== undefined) fn.description = t.description;
    fn.parameters = t.parameters ?? { type: 'object', properties: {} };
    return { type: 'function', function: fn };
  });
}

/**
 * Tool-call arguments as the gateway holds them (an object). Ollama sends an object; OpenAI sends a
 * JSON string, where "" means no arguments. Anything else is a bad upstream response.
 */
export function toolArguments(value: unknown, upstream: string): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw errors.upstreamBadResponse(upstream, 'tool call arguments are not valid JSON');
    }
    return toolArguments(parsed, upstream);
  }
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw errors.upstreamBadResponse(upstream, 'tool call arguments are not an object');
}

/** Tool calls from an upstream that gave no ids get `call_<n>` (unique within the response). */
export function toolCallId(id: unknown, n: number): string {
  return typeof id === 'string' && id.length > 0 ? id : `call_${n}`;
}
