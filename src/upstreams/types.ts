import type { CancelSignal } from '../pipeline/cancel.js';
import type {
  ChatRequest,
  Chunk,
  EmbedRequest,
  EmbedResult,
  GenerateRequest,
  ModelInfo,
} from '../pipeline/types.js';

export type UpstreamKind = 'ollama' | 'openai';

export interface UpstreamHealth {
  ok: boolean;
  latencyMs: number;
  version?: string;
  error?: string;
}

/** Pool statistics for metrics (undici Pool.stats). */
export interface UpstreamPoolStats {
  connected: number;
  free: number;
  pending: number;
  running: number;
}

/**
 * One LLM server. Implementations own their undici pool, timeouts and abort handling, and are the
 * only code that knows the upstream's wire format. Errors thrown are GatewayError (see errors/).
 * Streams: a mid-stream upstream error is thrown from the iterator; aborting `signal` cancels the
 * upstream request and frees its slot.
 */
export interface UpstreamAdapter {
  readonly id: string;
  readonly kind: UpstreamKind;
  readonly baseUrl: string;
  chat(req: ChatRequest, signal: CancelSignal): AsyncIterable<Chunk>;
  generate(req: GenerateRequest, signal: CancelSignal): AsyncIterable<Chunk>;
  embed(req: EmbedRequest, signal: CancelSignal): Promise<EmbedResult>;
  listModels(signal: AbortSignal): Promise<ModelInfo[]>;
  health(signal: AbortSignal): Promise<UpstreamHealth>;
  poolStats(): UpstreamPoolStats;
  /** Requests from this gateway currently open against this upstream (streams until they end). */
  inFlight?(): number;
  close(): Promise<void>;
}

export interface UpstreamTimeouts {
  /** TCP connect timeout, ms. Default 5000. */
  connectMs: number;
  /** Whole request (non-streaming) / time to first chunk (streaming), ms. Default 30000. */
  totalMs: number;
  /** Max silence between stream chunks, ms. Default 30000. */
  idleMs: number;
}

export interface UpstreamConfig {
  id: string;
  kind: UpstreamKind;
  /** ollama: base like http://127.0.0.1:11434 ; openai: base including /v1 like http://127.0.0.1:8080/v1 */
  url: string;
  /** Bearer key sent to an OpenAI-compatible upstream, if any. */
  apiKey?: string;
  /** Max connections in the keep-alive pool. Default 256. */
  connections: number;
  timeouts: UpstreamTimeouts;
}
