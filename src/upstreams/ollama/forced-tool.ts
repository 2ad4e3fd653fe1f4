import { errors } from '../../errors/catalogue.js';
import type { ChatRequest, Chunk, ToolDefinition } from '../../pipeline/types.js';
import type { Json } from '../json.js';

/**
 * Ollama's /api/chat has no `tool_choice` (api/types.go ChatRequest), so a forced call
 * (`required`, or one named tool) is asked for with structured output instead: `format` is a JSON
 * schema of the call — the named tool's parameters, or `{name: enum of the tools, arguments}` —
 * and the JSON text that comes back is turned into one tool call. `none` is honoured by not
 * offering the tools; `auto` is Ollama's own behaviour.
 */

export interface ForcedTool {
  /** The schema sent as `format`. */
  format: Json;
  /** Single tool: its name (the answer is its arguments). Several: undefined (the answer names it). */
  name: string | undefined;
}

const EMPTY_PARAMS: Json = { type: 'object', properties: {} };

export function forcedTool(req: ChatRequest): ForcedTool | undefined {
  const choice = req.toolChoice;
  const tools = req.tools ?? [];
  if (choice === undefined || choice === 'auto' || choice === 'none' || tools.length === 0) return undefined;
  const single: ToolDefinition | undefined =
    typeof choice === 'object'
      ? tools.find((t) => t.name === choice.name)
      : tools.length === 1
        ? tools[0]
        : undefined;
  if (single !== undefined) return { format: single.parameters ?? EMPTY_PARAMS, name: single.name };
  return {
    format: {
      type: 'object',
      properties: {
        name: { type: 'string', enum: tools.map((t) => t.name) },
        arguments: { type: 'object' },
      },
      required: ['name', 'arguments'],
    },
    name: undefined,
  };
}

/** The forced call's JSON answer → a tool_calls chunk (a bad answer is a bad upstream response). */
export function forcedCall(
  text: string,
  forced: ForcedTool,
  upstream: string,
): Extract<Chunk, { type: 'tool_calls' }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw errors.upstreamBadResponse(upstream, 'forced tool call: the answer is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw errors.upstreamBadResponse(upstream, 'forced tool call: the answer is not a JSON object');
  const o = parsed as Json;
  if (forced.name !== undefined)
    return { type: 'tool_calls', calls: [{ id: 'call_0', name: forced.name, arguments: o }] };
  const args = o.arguments;
  if (typeof o.name !== 'string' || typeof args !== 'object' || args === null || Array.isArray(args))
    throw errors.upstreamBadResponse(upstream, 'forced tool call: expected {name, arguments}');
  return { type: 'tool_calls', calls: [{ id: 'call_0', name: o.name, arguments: args as Json }] };
}
