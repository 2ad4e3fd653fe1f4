import type { Chunk, ToolCall } from '../../pipeline/types.js';
import type { Json } from '../json.js';
import { toolArguments, toolCallId } from '../tool-calls.js';

interface PendingCall {
  id: string;
  name: string;
  args: string;
}

/**
 * Collects OpenAI tool-call deltas. The first fragment of a call carries `index`, `id` and
 * `function.name`; later ones carry `index` and pieces of `function.arguments` (a JSON string).
 * `flush()` turns the complete calls into one `tool_calls` chunk (arguments parsed to objects).
 */
export class ToolCallAccumulator {
  private parts: (PendingCall | undefined)[] = [];
  /** Calls emitted so far (also numbers synthesized ids). */
  count = 0;

  constructor(private readonly upstream: string) {}

  add(fragments: unknown[]): void {
    for (const item of fragments) {
      const f = (item ?? {}) as Json;
      const index = typeof f.index === 'number' ? f.index : this.parts.length;
      let p = this.parts[index];
      if (p === undefined) {
        p = { id: '', name: '', args: '' };
        this.parts[index] = p;
      }
      if (typeof f.id === 'string' && f.id.length > 0) p.id = f.id;
      const fn = (f.function ?? {}) as Json;
      if (typeof fn.name === 'string' && p.name.length === 0) p.name = fn.name;
      if (typeof fn.arguments === 'string') p.args += fn.arguments;
      else if (typeof fn.arguments === 'object' && fn.arguments !== null)
        p.args = JSON.stringify(fn.arguments);
    }
  }

  flush(): Chunk | undefined {
    if (this.parts.length === 0) return undefined;
    const calls: ToolCall[] = [];
    for (const p of this.parts) {
      if (p === undefined) continue;
      calls.push({
        id: toolCallId(p.id, this.count++),
        name: p.name,
        arguments: toolArguments(p.args, this.upstream),
      });
    }
    this.parts = [];
    return calls.length > 0 ? { type: 'tool_calls', calls } : undefined;
  }
}
