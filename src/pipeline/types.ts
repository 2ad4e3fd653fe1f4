/**
 * The internal request/response model. Every HTTP surface (v1, OpenAI, Ollama) maps its wire
 * format to these types; every upstream adapter maps them to its upstream's wire format.
 * Nothing in here knows a wire format.
 */

export type Role = 'system' | 'user' | 'assistant' | 'tool';

/** A tool call as the gateway holds it: arguments are a parsed JSON object (Ollama's form). */
export interface ToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema object. */
  parameters?: Record<string, unknown>;
}

export interface ChatMessage {
  role: Role;
  content: string;
  /** base64 images without data-URL prefix. */
  images?: string[];
  thinking?: string;
  toolCalls?: ToolCall[];
  /** For role "tool": the call this message answers. */
  toolCallId?: string;
  /** For role "tool": the name of the tool whose result this is. */
  toolName?: string;
}

/** Output-affecting generation options, normalised. Absent = upstream default. */
export interface GenerationOptions {
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  /** Max new tokens (Ollama num_predict, OpenAI max_tokens / max_completion_tokens). */
  maxTokens?: number;
  stop?: string[];
  presencePenalty?: number;
  frequencyPenalty?: number;
  repeatPenalty?: number;
  numCtx?: number;
  /** Other Ollama options passed through verbatim (native surface only). */
  extra?: Record<string, unknown>;
}

/** "json" = JSON mode; an object = JSON Schema for structured output. */
export type OutputFormat = 'json' | Record<string, unknown>;

/**
 * Admission lane (src/admission/): interactive requests start before batch items (v1 batch), and
 * those before background tasks.
 */
export type Priority = 'interactive' | 'batch' | 'background';

/** What an API key may do, as the limits stage reads it (src/limits/). Absent limit = none. */
export interface CallerKey {
  readonly rpm?: number;
  readonly tpm?: number;
  readonly concurrency?: number;
  /** Models the key may use; undefined = all. */
  readonly models?: ReadonlySet<string>;
}

/** Who asked, for limits/accounting/logging. Filled by the HTTP layer. */
export interface Caller {
  requestId: string;
  /** API key id ("admin" for the admin key); undefined = anonymous (auth off). */
  keyId?: string;
  /** The key's limits and allowed models (src/auth/ fills it); undefined = unlimited. */
  key?: CallerKey;
  /** Client address (HTTP requests); with keyId, who admission takes turns between. */
  client?: string;
  surface: 'v1' | 'openai' | 'ollama' | 'anthropic' | 'responses' | 'task';
}

/** Per-request cache wishes; the single policy function decides what they mean. */
export interface CacheDirective {
  /** false = bypass the response cache for this request (use_cache:false, Cache-Control: no-cache). */
  use: boolean;
}

interface BaseRequest {
  model: string;
  options: GenerationOptions;
  stream: boolean;
  priority: Priority;
  cache: CacheDirective;
  keepAlive?: string | number;
  /** Log probabilities wanted: the number of top alternatives per token (0–20). Absent = none. */
  logprobs?: number;
}

/**
 * Which tool the model must call: 'auto' (upstream default: may call one), 'none' (must not),
 * 'required' (must call one), or `{ name }` (must call that one).
 */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** Log probability of one chosen output token, with the most likely alternatives when asked for. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes?: number[];
  top?: { token: string; logprob: number; bytes?: number[] }[];
}

export interface ChatRequest extends BaseRequest {
  kind: 'chat';
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  /** Absent = the upstream's default ('auto' when tools are given). */
  toolChoice?: ToolChoice;
  format?: OutputFormat;
  think?: boolean | string;
}

export interface GenerateRequest extends BaseRequest {
  kind: 'generate';
  prompt: string;
  system?: string;
  suffix?: string;
  images?: string[];
  format?: OutputFormat;
  raw?: boolean;
  think?: boolean | string;
}

export type GenerationRequest = ChatRequest | GenerateRequest;

export interface EmbedRequest {
  kind: 'embed';
  model: string;
  input: string[];
  /** Inputs given as token ids (OpenAI `input: number[] | number[][]`); `input` is then empty. */
  tokens?: number[][];
  dimensions?: number;
  truncate?: boolean;
  options?: GenerationOptions;
  keepAlive?: string | number;
  priority: Priority;
  cache: CacheDirective;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

/** Ollama-style timings in nanoseconds, when the upstream reports them. */
export interface Timings {
  totalDurationNs?: number;
  loadDurationNs?: number;
  promptEvalDurationNs?: number;
  evalDurationNs?: number;
}

/** One piece of a generation. Non-streaming calls produce the same sequence, usually shorter. */
export type Chunk =
  | { type: 'delta'; text: string; thinking?: string; logprobs?: TokenLogprob[] }
  | { type: 'tool_calls'; calls: ToolCall[] }
  | { type: 'done'; finishReason: FinishReason; usage: Usage; timings?: Timings };

export interface EmbedResult {
  model: string;
  embeddings: number[][];
  promptTokens: number;
}

export interface ModelInfo {
  /** Name as clients use it (Ollama `name:tag`, or the OpenAI model id). */
  name: string;
  /** Id of the upstream that serves it. */
  upstream: string;
  modifiedAt?: string;
  size?: number;
  digest?: string;
  details?: Record<string, unknown>;
  capabilities?: string[];
}
