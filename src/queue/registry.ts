import { z } from 'zod';
import { v1Options } from '../pipeline/options.js';
import { runBatch, runChat, runEmbedding, runTextGeneration } from './handlers.js';
import type { TaskContext } from './types.js';

export interface TaskDefinition<S extends z.ZodType, R> {
  schema: S;
  run: (payload: z.output<S>, ctx: TaskContext) => Promise<R>;
}

function define<S extends z.ZodType, R>(def: TaskDefinition<S, R>): TaskDefinition<S, R> {
  return def;
}

const model = z.string().min(1).max(256);
const nonEmpty = z.string().min(1, 'must be a non-empty string');

export const chatMessage = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string(),
  images: z.array(z.string()).optional(),
});

/** Generous hard cap; the configured batchMaxItems is checked at submission. */
const BATCH_HARD_MAX = 100_000;

/**
 * The task types, each with its payload schema and handler. Job data carries ids and inputs,
 * never secrets. Adding a type here makes it submittable and runnable everywhere.
 */
export const TASKS = {
  text_generation: define({
    schema: z.object({
      prompt: nonEmpty,
      model: model.optional(),
      system: z.string().optional(),
      options: v1Options,
    }),
    run: runTextGeneration,
  }),
  chat: define({
    schema: z.object({
      messages: z.array(chatMessage).min(1, 'must contain at least one message'),
      model: model.optional(),
      options: v1Options,
    }),
    run: runChat,
  }),
  embedding: define({
    schema: z.object({
      input: z.union([nonEmpty, z.array(nonEmpty).min(1, 'must contain at least one input')]),
      model: model.optional(),
    }),
    run: runEmbedding,
  }),
  batch: define({
    schema: z.object({
      prompts: z.array(nonEmpty).min(1, 'must contain at least one prompt').max(BATCH_HARD_MAX),
      model: model.optional(),
      system: z.string().optional(),
      options: v1Options,
    }),
    run: runBatch,
  }),
};

export type TaskType = keyof typeof TASKS;

/**
 * Each payload's shape as a client writes it, quoted in a wrong payload's 400 and in
 * docs/tasks.md (test/queue/task-payload-docs.test.ts keeps the two and the schemas in step).
 */
export const PAYLOAD_SHAPES: Readonly<Record<TaskType, string>> = {
  text_generation: '{"prompt": string, "model"?: string, "system"?: string, "options"?: {...}}',
  chat: '{"messages": [{"role": "system"|"user"|"assistant"|"tool", "content": string}, ...], "model"?: string, "options"?: {...}}',
  embedding: '{"input": string | string[], "model"?: string}',
  batch: '{"prompts": string[], "model"?: string, "system"?: string, "options"?: {...}}',
};
export const TASK_TYPES = Object.keys(TASKS) as TaskType[];

/** Payload of a task type, as a client writes it. */
export type TaskPayload<T extends TaskType> = z.input<(typeof TASKS)[T]['schema']>;
/** Result of a task type, as stored and returned. */
export type TaskResult<T extends TaskType> = Awaited<ReturnType<(typeof TASKS)[T]['run']>>;

/** A submission; `payload` must match `type` (a mismatch is a compile error). */
export type TaskInput = {
  [T in TaskType]: { type: T; payload: TaskPayload<T>; priority?: number; callbackUrl?: string };
}[TaskType];

export function isTaskType(v: string): v is TaskType {
  return Object.hasOwn(TASKS, v);
}
