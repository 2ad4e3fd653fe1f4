import fc from 'fast-check';

/**
 * Every JSON route of every surface, for the hostile-input fuzz test (fuzz-json-routes.test.ts).
 * A new surface or route is one entry here: its path, its envelope, and plausible values for its
 * fields (the fuzzer mixes them with wrong types, unknown and poisonous keys, and raw garbage).
 */
export type Surface = 'v1' | 'openai' | 'ollama' | 'anthropic';

export interface FuzzRoute {
  surface: Surface;
  method: 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** Plausible values per field; fields controlling output length stay small (the run is timed). */
  fields: Record<string, fc.Arbitrary<unknown>>;
  /** Bodies the route accepts, so that generated requests also reach its handler and upstream. */
  valid?: fc.Arbitrary<Record<string, unknown>>;
  /** A 4xx body shape of this route besides the surface's envelope (e.g. batch per-item errors). */
  alsoAccepts?: (body: unknown) => boolean;
}

/** True when `body` is an error in the surface's own envelope. */
export const ENVELOPES: Record<Surface, (body: unknown) => boolean> = {
  v1: (b) =>
    isObj(b) && isObj(b.error) && typeof b.error.code === 'string' && typeof b.error.message === 'string',
  openai: (b) =>
    isObj(b) && isObj(b.error) && typeof b.error.message === 'string' && typeof b.error.type === 'string',
  ollama: (b) => isObj(b) && typeof b.error === 'string',
  anthropic: (b) => isObj(b) && b.type === 'error' && isObj(b.error) && typeof b.error.message === 'string',
};

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Small numbers only where a number decides how much work a valid request does.
const small = fc.oneof(fc.integer({ min: -5, max: 16 }), fc.double({ min: -2, max: 16, noNaN: false }));
const model = fc.oneof(
  fc.constantFrom('tinyllama', 'llama3.2', 'nomic-embed-text', 'tinyllama:latest'),
  fc.string({ maxLength: 40 }),
);
const text = fc.oneof(fc.string({ maxLength: 64 }), fc.string({ maxLength: 32, unit: 'grapheme' }));
const role = fc.oneof(fc.constantFrom('system', 'user', 'assistant', 'tool', 'developer'), fc.string());
const message = fc.record(
  {
    role,
    content: fc.oneof(text, fc.array(fc.record({ type: fc.constant('text'), text }), { maxLength: 3 })),
  },
  { requiredKeys: [] },
);
const messages = fc.array(message, { maxLength: 4 });
const options = fc.record(
  {
    num_predict: small,
    temperature: small,
    top_p: small,
    seed: small,
    stop: fc.array(text, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);
const stream = fc.oneof(fc.boolean(), fc.constant(undefined));

export const LENGTH_KEYS = new Set([
  'num_predict',
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
  'n',
  'prompts',
]);

export const ROUTES: FuzzRoute[] = [
  // Anthropic Messages
  {
    surface: 'anthropic',
    method: 'POST',
    path: '/v1/messages',
    valid: fc.record({
      model: fc.constantFrom('tinyllama', 'llama3.2'),
      max_tokens: fc.integer({ min: 1, max: 8 }),
      messages: fc.array(fc.record({ role: fc.constant('user'), content: text }), {
        minLength: 1,
        maxLength: 3,
      }),
      stream,
    }),
    fields: {
      model,
      max_tokens: small,
      messages,
      system: fc.oneof(text, fc.array(fc.record({ type: fc.constant('text'), text }), { maxLength: 2 })),
      stop_sequences: fc.array(text, { maxLength: 3 }),
      temperature: small,
      stream,
    },
  },
  // OpenAI Responses
  {
    surface: 'openai',
    method: 'POST',
    path: '/v1/responses',
    valid: fc.record({
      model: fc.constantFrom('tinyllama', 'llama3.2'),
      input: fc.oneof(
        text,
        fc.array(fc.record({ role: fc.constant('user'), content: text }), { maxLength: 3 }),
      ),
      max_output_tokens: fc.integer({ min: 16, max: 24 }),
      stream,
    }),
    fields: {
      model,
      input: fc.oneof(text, messages),
      instructions: text,
      max_output_tokens: small,
      temperature: small,
      stream,
    },
  },
  // SutazAI v1
  {
    surface: 'v1',
    method: 'POST',
    path: '/api/v1/chat',
    fields: { message: text, model, options, messages },
  },
  { surface: 'v1', method: 'POST', path: '/api/v1/chat/stream', fields: { message: text, model, options } },
  {
    surface: 'v1',
    method: 'POST',
    path: '/api/v1/batch',
    fields: { prompts: fc.array(text, { maxLength: 4 }), model, options },
    // Every prompt failed: 400 with the per-item errors (docs: /api/v1/batch).
    alsoAccepts: (b) =>
      isObj(b) && Array.isArray(b.results) && b.results.every((x) => isObj(x) && ENVELOPES.v1(x)),
  },
  {
    surface: 'v1',
    method: 'POST',
    path: '/api/v1/tasks',
    valid: fc.record({
      task_type: fc.constant('text_generation'),
      payload: fc.record({ prompt: text, options: fc.constant({ num_predict: 4 }) }),
    }),
    fields: {
      task_type: fc.oneof(fc.constantFrom('text_generation', 'chat', 'embedding', 'batch'), fc.string()),
      payload: fc.record({ prompt: text, model, messages, input: text }, { requiredKeys: [] }),
      priority: small,
      callback_url: fc.oneof(fc.webUrl(), fc.constant('http://169.254.169.254/latest'), fc.string()),
    },
  },
  { surface: 'v1', method: 'POST', path: '/api/v1/cache/clear', fields: { pattern: text } },
  // OpenAI
  {
    surface: 'openai',
    method: 'POST',
    path: '/v1/chat/completions',
    valid: fc.record({
      model: fc.constantFrom('tinyllama', 'llama3.2'),
      messages: fc.array(fc.record({ role: fc.constant('user'), content: text }), {
        minLength: 1,
        maxLength: 3,
      }),
      max_tokens: fc.integer({ min: 1, max: 8 }),
      stream: fc.boolean(),
    }),
    fields: {
      model,
      messages,
      stream,
      max_tokens: small,
      temperature: small,
      n: small,
      tools: fc.jsonValue(),
    },
  },
  {
    surface: 'openai',
    method: 'POST',
    path: '/v1/completions',
    fields: { model, prompt: fc.oneof(text, fc.array(text, { maxLength: 3 })), stream, max_tokens: small },
  },
  {
    surface: 'openai',
    method: 'POST',
    path: '/v1/embeddings',
    fields: { model, input: fc.oneof(text, fc.array(text, { maxLength: 4 })), encoding_format: text },
  },
  // Ollama
  {
    surface: 'ollama',
    method: 'POST',
    path: '/api/generate',
    fields: { model, prompt: text, stream, options },
  },
  { surface: 'ollama', method: 'POST', path: '/api/chat', fields: { model, messages, stream, options } },
  {
    surface: 'ollama',
    method: 'POST',
    path: '/api/embed',
    fields: { model, input: fc.oneof(text, fc.array(text, { maxLength: 4 })) },
  },
  { surface: 'ollama', method: 'POST', path: '/api/embeddings', fields: { model, prompt: text } },
  {
    surface: 'ollama',
    method: 'POST',
    path: '/api/show',
    fields: { model, name: model, verbose: fc.boolean() },
  },
];
