import { z } from 'zod';

/**
 * OpenAI `POST /v1/responses` request body (docs/protocols.md H.1). Input items are checked one by
 * one in map-request.ts, so an unsupported item or content type is refused by name and position.
 */

export const itemSchema = z.object({ type: z.string().optional() }).loose();

export const messageItemSchema = z
  .object({
    type: z.literal('message').optional(),
    role: z.enum(['user', 'assistant', 'system', 'developer']),
    content: z.union([z.string(), z.array(z.object({ type: z.string() }).loose())]),
  })
  .loose();

export const functionCallItemSchema = z
  .object({
    type: z.literal('function_call'),
    call_id: z.string().min(1),
    name: z.string().min(1),
    arguments: z.string(),
  })
  .loose();

export const functionCallOutputItemSchema = z
  .object({
    type: z.literal('function_call_output'),
    call_id: z.string().min(1),
    output: z.union([z.string(), z.array(z.object({ type: z.string() }).loose())]),
  })
  .loose();

export const inputTextSchema = z.object({ type: z.string(), text: z.string() }).loose();
export const inputImageSchema = z
  .object({ type: z.literal('input_image'), image_url: z.string().nullish(), file_id: z.string().nullish() })
  .loose();

const functionToolSchema = z
  .object({
    type: z.string(),
    name: z.string().min(1).optional(),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  })
  .loose();

const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), name: z.string().min(1) }),
  z.object({
    type: z.literal('allowed_tools'),
    mode: z.enum(['auto', 'required']),
    tools: z.array(z.object({ type: z.string(), name: z.string().optional() }).loose()),
  }),
]);

const textFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z
    .object({
      type: z.literal('json_schema'),
      name: z.string().optional(),
      schema: z.record(z.string(), z.unknown()),
      strict: z.boolean().nullish(),
    })
    .loose(),
]);

const REASONING = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'ultra', 'max'] as const;

export const responsesBodySchema = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(itemSchema)]),
    instructions: z.string().nullish(),
    max_output_tokens: z.number().int().min(1).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    tools: z.array(functionToolSchema).nullish(),
    tool_choice: toolChoiceSchema.nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    text: z.object({ format: textFormatSchema.nullish() }).loose().nullish(),
    reasoning: z
      .object({ effort: z.enum(REASONING).nullish() })
      .loose()
      .nullish(),
    metadata: z.record(z.string(), z.string()).nullish(),
    stream: z.boolean().nullish(),
    store: z.boolean().nullish(),
    previous_response_id: z.string().nullish(),
    background: z.boolean().nullish(),
    conversation: z.unknown().optional(),
    prompt: z.unknown().optional(),
    top_logprobs: z.number().int().nullish(),
  })
  .loose();

export type ResponsesBody = z.output<typeof responsesBodySchema>;
export type InputItem = z.output<typeof itemSchema>;
