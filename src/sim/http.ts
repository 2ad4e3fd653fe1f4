import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error answered before any byte of the response body was written. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'SimHttpError';
  }
}

export type JsonObject = Record<string, unknown>;

const JSON_TYPE = 'application/json; charset=utf-8';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string>,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Read and parse a JSON object body. Errors are 400 SimHttpErrors. */
export function readJson(req: IncomingMessage): Promise<JsonObject> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const text =
        chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)).toString() : Buffer.concat(chunks).toString();
      if (text.trim() === '') {
        reject(new SimHttpError(400, 'missing request body'));
        return;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        reject(new SimHttpError(400, `invalid JSON body: ${(err as Error).message}`));
        return;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        reject(new SimHttpError(400, 'request body must be a JSON object'));
        return;
      }
      resolve(value as JsonObject);
    });
  });
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function wrongType(field: string, expected: string, v: unknown): SimHttpError {
  return new SimHttpError(
    400,
    `invalid type for field "${field}": expected ${expected}, got ${typeName(v)}`,
    field,
  );
}

export function optString(o: JsonObject, key: string, field = key): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw wrongType(field, 'string', v);
  return v;
}

export function optNumber(o: JsonObject, key: string, field = key): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw wrongType(field, 'number', v);
  return v;
}

export function optInt(o: JsonObject, key: string, field = key): number | undefined {
  const v = optNumber(o, key, field);
  if (v !== undefined && !Number.isInteger(v)) throw wrongType(field, 'integer', v);
  return v;
}

export function optBool(o: JsonObject, key: string, field = key): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw wrongType(field, 'boolean', v);
  return v;
}

export function optObject(o: JsonObject, key: string, field = key): JsonObject | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(field, 'object', v);
  return v as JsonObject;
}

export function optArray(o: JsonObject, key: string, field = key): unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw wrongType(field, 'array', v);
  return v as unknown[];
}

/** `stop`: a string or an array of strings. */
export function optStop(o: JsonObject, key: string, field = key): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
  throw wrongType(field, 'string or array of strings', v);
}

export function requireModel(o: JsonObject, key = 'model'): string {
  const v = optString(o, key);
  if (v === undefined || v === '') throw new SimHttpError(400, 'model is required', key);
  return v;
}
