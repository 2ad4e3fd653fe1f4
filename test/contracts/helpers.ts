import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type {
  ChatRequest,
  Chunk,
  EmbedRequest,
  FinishReason,
  GenerateRequest,
  ToolCall,
  Usage,
} from '../../src/pipeline/types.js';
import type { UpstreamConfig, UpstreamKind, UpstreamTimeouts } from '../../src/config/upstreams.js';

/** Shared fixtures for the adapter contract and catalog tests. */

export function upstreamConfig(
  kind: UpstreamKind,
  url: string,
  timeouts: Partial<UpstreamTimeouts> = {},
  id = 'sim',
): UpstreamConfig {
  return {
    id,
    kind,
    url,
    connections: 8,
    timeouts: { connectMs: 2000, ttftMs: 10_000, idleMs: 10_000, totalMs: 10_000, ...timeouts },
  };
}

export function chatReq(over: Partial<ChatRequest> = {}): ChatRequest {
  return {
    kind: 'chat',
    model: 'llama3.2',
    messages: [{ role: 'user', content: 'Tell me something about rivers.' }],
    options: { seed: 7 },
    stream: false,
    priority: 'interactive',
    cache: { use: true },
    ...over,
  };
}

export function generateReq(over: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    kind: 'generate',
    model: 'llama3.2',
    prompt: 'Write a line about mountains.',
    options: { seed: 11 },
    stream: false,
    priority: 'interactive',
    cache: { use: true },
    ...over,
  };
}

export function embedReq(over: Partial<EmbedRequest> = {}): EmbedRequest {
  return {
    kind: 'embed',
    model: 'nomic-embed-text',
    input: ['first text', 'second text'],
    priority: 'interactive',
    cache: { use: true },
    ...over,
  };
}

export interface Collected {
  text: string;
  deltas: number;
  toolCalls: ToolCall[];
  finishReason: FinishReason | undefined;
  usage: Usage | undefined;
  chunks: Chunk[];
}

export async function collect(chunks: AsyncIterable<Chunk>): Promise<Collected> {
  const out: Collected = {
    text: '',
    deltas: 0,
    toolCalls: [],
    finishReason: undefined,
    usage: undefined,
    chunks: [],
  };
  for await (const c of chunks) {
    out.chunks.push(c);
    if (c.type === 'delta') {
      out.text += c.text;
      out.deltas++;
    } else if (c.type === 'tool_calls') out.toolCalls.push(...c.calls);
    else {
      out.finishReason = c.finishReason;
      out.usage = c.usage;
    }
  }
  return out;
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
  },
};
