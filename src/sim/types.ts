/**
 * Public shape of the simulator. The simulator implements Ollama's native API and the OpenAI /v1
 * API from the protocol reference on its own: it must not import gateway mapping or rendering code.
 */

export interface SimFaults {
  /** Probability [0,1] that a request fails with HTTP 500 before any byte. */
  errorRate: number;
  /** Probability [0,1] that a stream emits an error line/event part-way through. */
  midStreamErrorRate: number;
  /** Probability [0,1] that a stream stops sending (connection kept open) part-way through. */
  stallRate: number;
  /** Delay before response headers are sent, ms. */
  slowHeadersMs: number;
  /** Fail the next N generation/embedding requests with this HTTP status (0 = off); counts down. */
  failNext: number;
  failNextStatus: number;
}

export interface SimOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Chat/generate model names served (name or name:tag; bare names get ":latest"). */
  models: string[];
  /** Embedding model names served. */
  embedModels: string[];
  /** Tokens per second per stream; 0 = as fast as possible. */
  tps: number;
  /** Delay before the first token, ms. */
  ttftMs: number;
  /** Concurrent generation slots (like OLLAMA_NUM_PARALLEL). */
  parallel: number;
  /** Waiting requests beyond which the sim answers 503 like Ollama's ErrMaxQueue. */
  maxQueue: number;
  /** Models /api/ps reports as loaded at start (every model when unset); requests load more. */
  loaded?: string[];
  /** Seed for deterministic text. */
  seed: number;
  /** Default completion length in tokens when the request sets no limit. */
  defaultTokens: number;
  /** `owned_by` on /v1/models (Ollama says "library", llama-server "llamacpp"); default "library". */
  ownedBy?: string;
  /** Sampled requests (temperature ≠ 0 or unset, no seed) get a new answer each time; default false. */
  sampling?: boolean;
  faults: SimFaults;
}

export interface SimStats {
  /** Requests received per path, e.g. {"/api/chat": 3}. */
  requests: Record<string, number>;
  /** Generation/embedding requests that reached a slot (= real upstream work done). */
  generations: number;
  active: number;
  queued: number;
  /** Requests whose client went away before they finished (slot freed). */
  aborted: number;
  rejected503: number;
}

export interface SimHandle {
  /** e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  port: number;
  stats(): SimStats;
  resetStats(): void;
  setFaults(faults: Partial<SimFaults>): void;
  close(): Promise<void>;
}
