import { z } from 'zod';

/**
 * Anthropic `POST /v1/messages` request body (docs/protocols.md G.1). Content blocks are checked
 * one by one in map-request.ts, so an unsupported block type is refused by name and position.
 * Objects are loose: fields we do not act on (cache_control, citations…) are accepted and ignored.
 */

export const blockSchema = z.object({ type: z.string() }).loose();

export const textBlockSchema = z.object({ type: z.literal('text'), text: z.string() }).loose();

export const imageBlockSchema = z
  .object({
    type: z.literal('image'),
    source: z
      .object({
        type: z.string(),
        media_type: z.string().optional(),
        data: z.string().optional(),
        url: z.string().optional(),
      })
      .loose(),
  })
  .loose();

export const toolUseBlockSchema = z
  .object({
    type: z.literal('tool_use'),
    id: z.string().min(1),
    name: z.string().min(1),
    input: z.record(z.string(), z.unknown()),
  })
  .loose();

export const toolResultBlockSchema = z
  .object({
    type: z.literal('tool_result'),
    tool_use_id: z.string().min(1),
    content: z.union([z.string(), z.array(blockSchema)]).optional(),
    is_error: z.boolean().optional(),
  })
  .loose();

export const thinkingBlockSchema = z
  .object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().optional() })
  .loose();

const messageSchema = z.object({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(blockSchema)]),
});

const toolSchema = z
  .object({
    type: z.string().nullish(),
    name: z.string().min(1),
    description: z.string().optional(),
    input_schema: z.record(z.string(), z.unknown()),
  })
  .loose();

const toolChoiceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal('none') }),
  z.object({
    type: z.literal('tool'),
    name: z.string().min(1),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
]);

const thinkingSchema = z
  .object({ type: z.enum(['enabled', 'disabled', 'adaptive', 'between_tools']) })
  .loose();

export const messagesBodySchema = z
  .object({
    model: z.string().min(1),
    max_tokens: z.number().int().min(1),
    messages: z.array(messageSchema).min(1),
    system: z.union([z.string(), z.array(textBlockSchema)]).optional(),
    stop_sequences: z.array(z.string()).optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().min(0).optional(),
    stream: z.boolean().optional(),
    tools: z.array(toolSchema).optional(),
    tool_choice: toolChoiceSchema.optional(),
    thinking: thinkingSchema.optional(),
    metadata: z.object({ user_id: z.string().nullish() }).loose().optional(),
    output_config: z
      .object({
        effort: z.string().nullish(),
        format: z
          .object({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) })
          .nullish(),
      })
      .loose()
      .optional(),
  })
  .loose();

export type MessagesBody = z.output<typeof messagesBodySchema>;
export type AnthropicMessage = z.output<typeof messageSchema>;
export type AnthropicBlock = z.output<typeof blockSchema>;
