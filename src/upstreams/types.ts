import type { CancelSignal } from '../pipeline/cancel.js';
import type { Upstream } from '../pipeline/pipeline.js';
import type {
  ChatRequest,
  Chunk,
  EmbedRequest,
  EmbedResult,
  GenerateRequest,
  ModelInfo,
} from '../pipeline/types.js';
import type { UpstreamConfig, UpstreamKind } from '../config/upstreams.js';

export interface UpstreamHealth {
  ok: boolean;
  latencyMs: number;
  version?: string;
  error?: string;
}

/** A model held in the server's memory (Ollama `/api/ps`). */
export interface LoadedModel {
  name: string;
  /** When the server unloads it (from its keep_alive); far in the future for `keep_alive: -1`. */
  expiresAt?: string;
  sizeVram?: number;
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
export interface UpstreamAdapter extends Upstream {
  readonly kind: UpstreamKind;
  readonly baseUrl: string;
  /** The configuration it was built from (slots, weight, model allow-list, warm models). */
  readonly config?: UpstreamConfig;
  chat(req: ChatRequest, signal: CancelSignal): AsyncIterable<Chunk>;
  generate(req: GenerateRequest, signal: CancelSignal): AsyncIterable<Chunk>;
  embed(req: EmbedRequest, signal: CancelSignal): Promise<EmbedResult>;
  listModels(signal: AbortSignal): Promise<ModelInfo[]>;
  health(signal: AbortSignal): Promise<UpstreamHealth>;
  poolStats(): UpstreamPoolStats;
  /** Models loaded in memory now (Ollama `/api/ps`); absent where the protocol has no such call. */
  loadedModels?(signal: AbortSignal): Promise<LoadedModel[]>;
  /** Loads `model` and keeps it resident (Ollama: empty generate with `keep_alive: -1`). */
  preload?(model: string, signal: AbortSignal): Promise<void>;
  /** Requests from this gateway currently open against this upstream (streams until they end). */
  inFlight?(): number;
  close(): Promise<void>;
}
