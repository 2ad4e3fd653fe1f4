import { hash32 } from './rng.js';
import { SimHttpError } from './http.js';

/**
 * Images (Ollama `images`: base64 strings; OpenAI `image_url` parts: `data:` URLs). The model
 * "sees" them: each image's hash enters the text key, so a different picture gives a different
 * answer and a test can tell an image arrived. Bad base64 is a 400, as Ollama's decoder makes it.
 */

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function check(b64: unknown, field: string): string {
  if (typeof b64 !== 'string' || b64.length === 0 || b64.length % 4 !== 0 || !BASE64.test(b64))
    throw new SimHttpError(400, `illegal base64 data in ${field}`, field);
  return b64;
}

/** Key part for an Ollama `images` array ('' when there is none). */
export function imagesKey(images: unknown, field: string): string {
  if (images === undefined || images === null) return '';
  if (!Array.isArray(images)) throw new SimHttpError(400, `${field} must be an array`, field);
  return images.map((img, i) => `\u0004img${hash32(check(img, `${field}[${i}]`)).toString(16)}`).join('');
}

/** Key part for one OpenAI `image_url` content part. */
export function imagePartKey(part: Record<string, unknown>, field: string): string {
  const iu = part.image_url;
  const url = typeof iu === 'object' && iu !== null ? (iu as Record<string, unknown>).url : undefined;
  const m = typeof url === 'string' ? /^data:image\/[\w.+-]+;base64,(.*)$/s.exec(url) : null;
  if (!m) throw new SimHttpError(400, `${field}.image_url.url must be a base64 data: URL`, field);
  return `\u0004img${hash32(check(m[1], `${field}.image_url.url`)).toString(16)}`;
}
