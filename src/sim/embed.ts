import { createRng, hash32 } from './rng.js';

/** Default embedding dimension. */
export const DEFAULT_DIMENSIONS = 384;

/**
 * Deterministic unit vector for (model, text), rounded to float32 so the float and base64 encodings
 * carry exactly the same numbers.
 */
export function embedVector(model: string, text: string, dimensions: number): Float32Array {
  const rng = createRng(hash32(text, hash32(model)));
  const raw = new Float64Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const v = rng() * 2 - 1;
    raw[i] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  const out = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) out[i] = (raw[i] ?? 0) / norm;
  return out;
}

export function toFloatArray(v: Float32Array): number[] {
  return Array.from(v);
}

/** base64 of the little-endian float32 bytes (what openai-node decodes). */
export function toBase64(v: Float32Array): string {
  const buf = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i] ?? 0, i * 4);
  return buf.toString('base64');
}
