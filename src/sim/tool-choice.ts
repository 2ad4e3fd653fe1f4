import { SimHttpError } from './http.js';

/**
 * OpenAI `tool_choice` as llama-server honours it: `"none"` → never call (null), `"required"` →
 * call the first tool, `{type:"function", function:{name}}` → call that tool, `"auto"`/absent →
 * the usual trigger rule (undefined).
 */
export function forcedToolOf(choice: unknown, tools: unknown[] | undefined): unknown {
  if (choice === undefined || choice === null || choice === 'auto') return undefined;
  if (choice === 'none') return null;
  if (tools === undefined || tools.length === 0)
    throw new SimHttpError(400, 'tool_choice requires tools', 'tool_choice');
  if (choice === 'required') return tools[0];
  const name = (choice as { function?: { name?: unknown } }).function?.name;
  if (typeof name !== 'string') throw new SimHttpError(400, 'invalid tool_choice', 'tool_choice');
  const tool = tools.find((t) => (t as { function?: { name?: unknown } }).function?.name === name);
  if (tool === undefined)
    throw new SimHttpError(400, `tool_choice names unknown tool "${name}"`, 'tool_choice');
  return tool;
}
