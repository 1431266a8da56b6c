import fc from 'fast-check';

/** One character of a generated string: mostly plain, sometimes control, astral or a lone surrogate. */
const oddUnit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  },
  { weight: 1, arbitrary: fc.constantFrom('😀', 'é', '\u202e', '\ufeff', "'", '"', '\\', '%') },
);

export const oddString = fc.string({ unit: oddUnit, maxLength: 24 });

/** Keys that trip naive object handling, plus fields a client may never set. */
const trickyKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'id',
  'role',
  'status',
  'userId',
  'balanceCents',
  'totalCents',
  'unitPriceCents',
  'createdAt',
);

/** `fc.anything()` turned into what a JSON client could really send. */
const anythingAsJson = fc
  .anything({
    key: fc.oneof(fc.string(), trickyKey),
    maxDepth: 3,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
  })
  .map((value) => {
    const text = JSON.stringify(value);
    return text === undefined ? null : (JSON.parse(text) as unknown);
  });

/** Any JSON value at all, with plain and with odd strings. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.jsonValue({ maxDepth: 3, stringUnit: oddUnit }),
  anythingAsJson,
);

/** Values of the wrong type or just outside a rule, for a field of any kind. */
export const wrong: fc.Arbitrary<unknown> = fc.oneof(
  anyJson,
  oddString,
  fc.double(),
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -0,
    -1,
    1.5,
    1e308,
    -1e308,
    2 ** 53,
    2 ** 53 + 2,
    '',
    ' ',
    '1',
    '1e3',
    [],
    {},
    [1],
    { $gt: '' },
    "'; drop table users; --",
    'a'.repeat(300),
  ),
);

/** Extra keys a body may carry: mass-assignment attempts and prototype keys. */
export const extras = fc.dictionary(trickyKey, anyJson, { maxKeys: 3 });

/** A record of the route's own keys, each present or not, each valid or wrong. */
export function fieldsOf(fields: Record<string, fc.Arbitrary<unknown>>) {
  const mixed = Object.fromEntries(
    Object.entries(fields).map(([k, valid]) => [
      k,
      fc.oneof({ weight: 2, arbitrary: valid }, { weight: 1, arbitrary: wrong }),
    ]),
  );
  return fc
    .tuple(fc.record(mixed, { requiredKeys: [] }), fc.option(extras, { nil: undefined }))
    .map(([own, extra]) => (extra ? { ...own, ...extra } : own) as unknown);
}

/**
 * Any body for a route: any JSON at all, or its own keys with good and bad values; as the
 * server will read it (JSON turns -0 into 0), so the test judges what was really sent.
 */
export function bodyFor(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  return fc
    .oneof({ weight: 1, arbitrary: anyJson }, { weight: 3, arbitrary: fieldsOf(fields) })
    .map((value) => JSON.parse(JSON.stringify(value ?? null)) as unknown);
}

/** True when a key or string anywhere holds NUL or a lone surrogate: the gateway refuses those. */
export function hasBadText(value: unknown): boolean {
  const bad = (s: string) => s.includes('\u0000') || !s.isWellFormed();
  if (typeof value === 'string') return bad(value);
  if (Array.isArray(value)) return value.some(hasBadText);
  if (value && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => bad(k) || hasBadText(v));
  }
  return false;
}

export const validName = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 });
export const validEmail = fc
  .tuple(fc.stringMatching(/^[a-z0-9]{1,12}$/), fc.constantFrom('example.com', 'shop.test'))
  .map(([local, domain]) => `${local}@${domain}`);
export const validPassword = fc.string({ minLength: 8, maxLength: 40 });
