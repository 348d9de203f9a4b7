import fc from 'fast-check';
import type { JsonSchema } from './openapi-document.js';

/**
 * OpenAPI-driven generators of bad requests for the property-based "bad input" e2e test
 * (test/bad-input.e2e-spec.ts): operations are read from the served Swagger document, and values
 * are derived from each operation's parameter and body schemas — schema-valid values (to fill the
 * fields that are not being corrupted) and values that are guaranteed to violate the schema.
 */

// ---------------------------------------------------------------------------------------------
// Raw JSON tokens: values JSON.stringify cannot produce (1e309, -0, …) are carried as markers and
// spliced into the serialized text.
// ---------------------------------------------------------------------------------------------

const RAW_PREFIX = '\u0001RAW:';
const raw = (token: string) => `${RAW_PREFIX}${token}\u0001`;

export function serialize(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0001RAW:([^"\\]*)\\u0001"/g, '$1');
}

// ---------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------

const SPECIALS = [
  '\u0000', 'a\u0000b', '\u202e', '\u202eevil\u202c', 'مرحبا بالعالم', 'שלום', '😀', '👩‍👩‍👧‍👦', '🏳️‍🌈',
  'Z̸̢̛a̵l̷g̶o̸', '\ud83d', '\ufeff', '\u2028\u2029', '\r\n', '\t', "'; DROP TABLE campaigns; --", '" OR 1=1 --',
  '{{name}}', '{{', '%s%n', '${process.env}', '<script>alert(1)</script>', '../../etc/passwd', '%00', '\\', '"',
  'null', 'undefined', 'NaN', 'Infinity', '-0', '1e309', 'true', '[]', '{}', ' ', '',
];

/** Strings of at most `max` characters (unicode, emoji, RTL, NUL, …). */
export function weirdString(max = 40, min = 0): fc.Arbitrary<string> {
  const cap = Math.max(min, Math.min(max, 40));
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.string({ minLength: min, maxLength: cap }) },
      { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: min, maxLength: cap }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: min, maxLength: cap }) },
      { weight: 2, arbitrary: fc.constantFrom(...SPECIALS) },
      {
        weight: 1,
        arbitrary: fc.array(fc.constantFrom(...SPECIALS), { minLength: 1, maxLength: 6 }).map((a) => a.join('')),
      },
    )
    .filter((s) => s.length >= min && s.length <= max);
}

/** A string strictly longer than `maxLength` (up to ~100 KB). */
function tooLong(maxLength: number): fc.Arbitrary<string> {
  // Lengths in characters (code points), as JSON Schema's maxLength and class-validator count them: a
  // string of 501 UTF-16 units made of emoji has only 251 characters and is rightly accepted at 500.
  return fc
    .tuple(
      fc.integer({ min: maxLength + 1, max: Math.max(maxLength + 1, 100_000) }),
      fc.constantFrom('x', 'é', '😀', '\u0000', 'ab\u202e', 'מ'),
    )
    .map(([n, unit]) => [...unit.repeat(n)].slice(0, n).join(''))
    .filter((s) => [...s].length > maxLength);
}

/** Any JSON value (small), for "nested arrays/objects where scalars are expected". */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant([[[[[]]]]]),
  fc.constant({ a: { b: { c: { d: [1, { e: null }] } } } }),
);

// ---------------------------------------------------------------------------------------------
// Values from schemas
// ---------------------------------------------------------------------------------------------

/** Best-effort schema-valid values; strings are deliberately odd (but within the constraints). */
export function validValue(schema: JsonSchema | undefined, depth = 0, key = ''): fc.Arbitrary<unknown> {
  const s = schema ?? {};
  if (s.enum && s.enum.length > 0) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'string':
      if (s.format === 'uuid') return fc.uuid({ version: 4 });
      if (s.format === 'date-time') {
        return fc
          .date({ min: new Date('2031-01-01T00:00:00Z'), max: new Date('2039-12-31T00:00:00Z'), noInvalidDate: true })
          .map((d) => d.toISOString());
      }
      if (/phone/i.test(key)) return fc.integer({ min: 0, max: 9_999_999 }).map((i) => `+4176${String(i).padStart(7, '0')}`);
      return weirdString(s.maxLength ?? 40, Math.max(1, s.minLength ?? 1));
    case 'integer':
      return fc.integer({ min: s.minimum ?? 0, max: Math.min(s.maximum ?? 1_000_000, 1_000_000) });
    case 'number':
      return fc.double({ min: s.minimum ?? 0, max: s.maximum ?? 1_000_000, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return depth > 3 ? fc.constant([]) : fc.array(validValue(s.items, depth + 1), { maxLength: 3 });
    default:
      if (s.properties) return validObject(s, depth);
      if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        return fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }).filter((k) => k !== '__proto__'), weirdString(20), {
          maxKeys: 3,
        });
      }
      return fc.constant({});
  }
}

function validObject(s: JsonSchema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const props = s.properties ?? {};
  const required = new Set(s.required ?? []);
  const keys = Object.keys(props);
  return fc
    .tuple(
      fc.subarray(keys.filter((k) => !required.has(k))),
      fc.tuple(...(keys.length ? keys.map((k) => validValue(props[k], depth + 1, k)) : [fc.constant(undefined)])),
    )
    .map(([optional, values]) => {
      const out: Record<string, unknown> = {};
      keys.forEach((k, i) => {
        if (required.has(k) || optional.includes(k)) out[k] = values[i];
      });
      return out;
    });
}

/** Values that violate `schema` whatever the rest of the body is (`required`: the field may not be null). */
export function invalidValue(schema: JsonSchema | undefined, required: boolean, depth = 0): fc.Arbitrary<unknown> {
  const s = schema ?? {};
  const options: Array<fc.Arbitrary<unknown>> = [];
  const wrongScalars = (types: string[]) => {
    if (!types.includes('number')) {
      options.push(fc.constantFrom(0, -1, 1.5, 42, raw('1e309'), raw('-1e309'), raw('-0'), raw('1E400'), 2 ** 53 + 1));
    }
    if (!types.includes('boolean')) options.push(fc.boolean());
    if (!types.includes('string')) {
      options.push(fc.constantFrom('1', 'NaN', 'abc', '', '1e309', '-0', 'Infinity', '0x10', '١٢٣'), weirdString(20));
    }
    if (!types.includes('array')) options.push(fc.array(anyJson, { maxLength: 3 }), fc.constant([[[]]]));
    if (!types.includes('object')) options.push(fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 3 }), fc.constant({}));
    if (required && !s.nullable) options.push(fc.constant(null));
  };
  if (s.enum && s.enum.length > 0) {
    wrongScalars(['string']);
    options.push(weirdString(30).filter((v) => !s.enum!.includes(v)));
    options.push(fc.constantFrom(...s.enum.map((e) => String(e).toUpperCase() + ' ')));
    return fc.oneof(...options);
  }
  switch (s.type) {
    case 'string':
      wrongScalars(['string']);
      if (s.maxLength !== undefined) options.push(tooLong(s.maxLength), tooLong(s.maxLength));
      if (s.format === 'uuid') {
        options.push(fc.constantFrom('not-a-uuid', '', '00000000-0000-0000-0000-00000000000g', '{8a1c6f2e-0000-4000-8000-000000000000}'));
        options.push(weirdString(30).filter((v) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)));
      }
      if (s.format === 'date-time') {
        options.push(fc.constantFrom('yesterday', '', '2030-13-01T00:00:00Z', '2030-02-30T00:00:00Z', 'NaN', '99999-01-01T00:00:00Z', '2030-01-01T25:61:00Z'));
      }
      return fc.oneof(...options);
    case 'integer':
    case 'number': {
      wrongScalars(['number']);
      if (s.type === 'integer') options.push(fc.constantFrom(0.5, 1.5, 3.14159, 1e-7), fc.constantFrom(raw('1e309'), raw('-1e309')));
      const min = s.minimum;
      const max = s.maximum;
      if (min !== undefined) {
        options.push(fc.integer({ min: -1_000_000_000, max: Math.ceil(min) - 1 }), fc.constantFrom(min - 1, -(2 ** 53), -1e20));
        if (min > 0) options.push(fc.constant(raw('-0')), fc.constant(0));
      }
      if (max !== undefined) options.push(fc.constantFrom(max + 1, 2 ** 53 + 1, 1e20, 1e300));
      return fc.oneof(...options);
    }
    case 'boolean':
      wrongScalars(['boolean']);
      return fc.oneof(...options);
    case 'array': {
      wrongScalars(['array']);
      if (s.items && depth < 3) {
        const badItem = invalidValue(s.items, true, depth + 1);
        options.push(
          fc.tuple(fc.array(validValue(s.items, depth + 1), { maxLength: 2 }), badItem).map(([ok, bad]) => [...ok, bad]),
        );
      }
      if (s.maxItems !== undefined && s.maxItems <= 20_000 && s.items) {
        options.push(validValue(s.items, depth + 1).map((v) => Array.from({ length: s.maxItems! + 1 }, () => v)));
      }
      return fc.oneof(...options);
    }
    default: {
      // object
      wrongScalars(['object']);
      if (s.properties && depth < 3) options.push(corruptObject(s, depth + 1));
      // Not {key: non-string}: the DTO only checks IsObject, and variable values are judged per row (counted
      // as invalid rows by design), so such a body is not guaranteed to be refused as a whole.
      return fc.oneof(...options);
    }
  }
}

export type Corruption = 'wrong-value' | 'missing-required' | 'unknown-field';

/**
 * An object that violates its schema: filled with valid (odd) values, then 1–3 corruptions —
 * a field with a wrong value, a required field removed, or an unknown field added.
 */
export function corruptObject(s: JsonSchema, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const props = s.properties ?? {};
  const keys = Object.keys(props);
  const required = s.required ?? [];
  const corruption: fc.Arbitrary<{ kind: Corruption; key: string; value?: unknown }> = fc.oneof(
    ...(keys.length
      ? [
          { weight: 4, arbitrary: fc.constantFrom(...keys).chain((key) => invalidValue(props[key], required.includes(key), depth).map((value) => ({ kind: 'wrong-value' as const, key, value }))) },
        ]
      : []),
    ...(required.length ? [{ weight: 1, arbitrary: fc.constantFrom(...required).map((key) => ({ kind: 'missing-required' as const, key })) }] : []),
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom('constructor', 'isAdmin', 'tenantId', 'id', 'status', 'credits', 'balance', 'NAME', 'name ')),
          anyJson,
        )
        .filter(([k]) => !keys.includes(k) && k !== '__proto__')
        .map(([key, value]) => ({ kind: 'unknown-field' as const, key, value })),
    },
  );
  return fc
    .tuple(validObject(s, depth), fc.array(corruption, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([base, corruptions, protoNoise]) => {
      const out: Record<string, unknown> = { ...base };
      for (const c of corruptions) {
        if (c.kind === 'missing-required') delete out[c.key];
        else out[c.key] = c.value;
      }
      // __proto__ as an own key (what JSON.parse produces), only ever next to a real corruption.
      if (protoNoise) Object.defineProperty(out, '__proto__', { value: { isAdmin: true }, enumerable: true });
      return out;
    });
}

/** Texts that body-parser's strict JSON parser must refuse. */
export const malformedJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '{', '}', '{"name": "x", "text": ', '{"a":}', "{'name':'x'}", '{"a":1,}', '[1,2', '{"a": NaN}', '{"a": undefined}',
    '{"a":1}}', '{"a":"\u0001"}', '{"a":"\\x41"}', 'nul', '{"a" 1}', '{"a":01}', '{"a":.5}', '{"a":+1}', '{"a":Infinity}',
    '\u0000', '\ufeff{"a":1}x', '"just a string"', '42', 'true', 'null', '{"a":"\\ud800"}x', '<xml/>', '{}{}', '[]]',
    'x'.repeat(5000),
  ),
  fc.integer({ min: 1, max: 60_000 }).map((n) => '['.repeat(n)),
  fc.integer({ min: 1, max: 3_000 }).map((n) => '{"a":'.repeat(n)),
  fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.nat()).map(([v, cut]) => {
    const text = JSON.stringify({ v, pad: 'x' });
    return text.slice(0, 1 + (cut % (text.length - 1))); // a strict prefix of an object: never valid JSON
  }),
);

// ---------------------------------------------------------------------------------------------
// Query strings
// ---------------------------------------------------------------------------------------------

/** Numbers in the query; Swagger leaves `type` out for `page = 1`-style properties but keeps their bounds. */
function isNumeric(schema: JsonSchema): boolean {
  return schema.type === 'integer' || schema.type === 'number' || schema.minimum !== undefined || schema.maximum !== undefined;
}

export function invalidQueryValue(schema: JsonSchema): fc.Arbitrary<string | readonly string[]> {
  if (schema.enum && schema.enum.length > 0) {
    return fc.oneof(
      fc.constantFrom('', 'DRAFT', 'bogus', '%00', 'draft ', 'null', '1'),
      weirdString(30).filter((v) => !schema.enum!.includes(v)),
      fc.constant([String(schema.enum[0]), String(schema.enum[0])]),
    );
  }
  if (isNumeric(schema)) {
    const opts: string[] = ['-1', '1.5', 'abc', 'NaN', '1e309', 'Infinity', '-Infinity', '', '99999999999999999999', '\u0000', '1,2', 'null', '½', '١'];
    if ((schema.minimum ?? 0) > 0) opts.push('0', '-0');
    if (schema.maximum !== undefined) opts.push(String(schema.maximum + 1), String(schema.maximum * 1000));
    return fc.oneof(fc.constantFrom(...opts), fc.constant(['1', '2']), fc.integer({ max: -1 }).map(String));
  }
  return fc.oneof(fc.constant(['a', 'b']), weirdString(30));
}

export function validQueryValue(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum.map(String));
  if (isNumeric(schema)) {
    return fc.integer({ min: schema.minimum ?? 1, max: Math.min(schema.maximum ?? 1000, 1000) }).map(String);
  }
  return weirdString(20);
}

export function queryString(entries: Array<[string, string | readonly string[]]>): string {
  const parts = entries.flatMap(([k, v]) =>
    (typeof v === 'string' ? [v] : v).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '?'))}`),
  );
  return parts.length ? `?${parts.join('&')}` : '';
}
