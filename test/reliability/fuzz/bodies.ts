import fc from 'fast-check';
import { LENGTH_KEYS, type FuzzRoute } from './routes.js';

/** One generated request: its body bytes and content type. */
export interface FuzzInput {
  body: string | Buffer;
  contentType: string | undefined;
}

const small = fc.oneof(
  fc.integer({ min: -5, max: 16 }),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
);
const POISON = [
  '"__proto__":{"polluted":true,"isAdmin":true}',
  '"constructor":{"prototype":{"polluted":true}}',
  '"prototype":{"polluted":true}',
];

/** `{…}` text with some poisonous keys spliced in (JSON.stringify would drop a __proto__ key). */
function withKeys(obj: Record<string, unknown>, extra: string[]): string {
  const text = JSON.stringify(obj);
  if (extra.length === 0) return text;
  const inner = text.slice(1, -1);
  return `{${[...extra, ...(inner ? [inner] : [])].join(',')}}`;
}

/** Hostile bodies for one route: plausible, wrong types, unknown and poisonous keys, garbage. */
export function bodies(route: FuzzRoute): fc.Arbitrary<FuzzInput> {
  const keys = Object.keys(route.fields);
  const plausible = fc.record(route.fields, { requiredKeys: [] });
  const wrongTypes = fc.record(
    Object.fromEntries(keys.map((k) => [k, LENGTH_KEYS.has(k) ? small : fc.jsonValue({ maxDepth: 4 })])),
    { requiredKeys: [] },
  );
  const object = fc
    .tuple(
      fc.oneof(plausible, wrongTypes),
      fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
      fc.subarray(POISON),
    )
    .map(([o, unknown, poison]) => withKeys({ ...unknown, ...(o as Record<string, unknown>) }, poison));
  const truncated = fc.tuple(plausible, fc.nat()).map(([o, n]) => {
    const t = JSON.stringify(o);
    return t.slice(0, n % (t.length + 1));
  });
  const garbage = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.json({ maxDepth: 3 }),
    fc.constantFrom('', 'null', '[]', '"x"', '0', 'true', '{', '}', '{"model":', '\u0000', '{"a":1}{"b":2}'),
  );
  const deep = fc
    .tuple(fc.integer({ min: 1, max: 2000 }), fc.boolean())
    .map(([d, arr]) =>
      arr
        ? `{"model":"tinyllama","options":${'['.repeat(d)}${']'.repeat(d)}}`
        : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`,
    );
  const huge = fc
    .constantFrom(
      () => JSON.stringify({ model: 'tinyllama', prompt: 'x'.repeat(300_000), message: 'y'.repeat(300_000) }),
      () =>
        JSON.stringify({
          model: 'tinyllama',
          messages: Array.from({ length: 20_000 }, () => ({ role: 'user', content: 'hi' })),
        }),
      () => JSON.stringify({ model: 'nomic-embed-text', input: Array.from({ length: 50_000 }, () => 'a') }),
      () => `{"model":"tinyllama","prompt":"${'x'.repeat(200_000)}`, // never closed
      () => JSON.stringify({ prompts: Array.from({ length: 5000 }, (_, i) => `p${i}`) }),
    )
    .map((make) => make());
  const invalidUtf8 = fc
    .uint8Array({ minLength: 1, maxLength: 32 })
    .map((u) =>
      Buffer.concat([
        Buffer.from('{"model":"tinyllama","prompt":"'),
        Buffer.from([0xff, 0xfe, 0xc3, ...u]),
        Buffer.from('","message":"\xed\xa0\x80"}', 'latin1'),
      ]),
    );
  const valid = route.valid?.map((o) => JSON.stringify(o)) ?? object;
  const text = fc.oneof(
    { arbitrary: object, weight: 10 },
    { arbitrary: valid, weight: 2 },
    { arbitrary: truncated, weight: 2 },
    { arbitrary: garbage, weight: 3 },
    { arbitrary: deep, weight: 1 },
    { arbitrary: invalidUtf8, weight: 1 },
  );
  const contentType = fc.oneof(
    { arbitrary: fc.constant('application/json'), weight: 12 },
    {
      arbitrary: fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin1',
        'application/jsonx',
        '',
      ),
      weight: 1,
    },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );
  return fc.oneof(
    { arbitrary: fc.record({ body: text, contentType }), weight: 60 },
    { arbitrary: fc.record({ body: huge, contentType: fc.constant('application/json') }), weight: 1 },
  );
}
