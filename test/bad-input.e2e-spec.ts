import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ADMIN_KEY, SANDBOX_KEY, WEBHOOK_SECRET, startApp, type TestApp } from './support/test-app.js';
import { createTenant, phone, type TenantFixture } from './support/api.js';
import {
  corruptObject, invalidQueryValue, malformedJson, queryString, serialize, validQueryValue, validValue, weirdString,
} from './support/openapi-fuzz.js';
import { operationsOf, type Operation } from './support/openapi-document.js';

/**
 * Property-based "bad input" test over every operation of the served OpenAPI document.
 *
 * Every generated request carries at least one reason to be refused (bad or missing credentials,
 * another tenant's / unknown / malformed id, a body that breaks the schema, malformed JSON, a wrong
 * content type, bad query parameters, an action the campaign's status forbids) — except read-only
 * GETs and webhook calls with the right secret, which may succeed but never change anything.
 *
 * For every response: status < 500; a 4xx has exactly the contract's error body and leaks no stack
 * trace, SQL or secret; a request with a reason to be refused is never 2xx; another tenant's resource
 * never answers 2xx. Around the whole run: the database content is unchanged.
 *
 * FUZZ_RUNS (default 300) is the number of generated requests, split evenly over the operations;
 * FUZZ_SEED replays a run. A long run: FUZZ_RUNS=10000.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const REQUEST_TIMEOUT_MS = 15_000;
/** FUZZ_EXCLUDE_KNOWN=1: do not generate the bugs already reported (see the "known bad inputs" test), to look for others. */
const EXCLUDE_KNOWN = process.env.FUZZ_EXCLUDE_KNOWN === '1';
const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype);
const BODY_LIMIT = 2 * 1024 * 1024;
const TABLES = ['tenants', 'traffic_accounts', 'campaigns', 'campaign_messages', 'credit_ledger', 'suppressions'];
const EVENTS_OP = 'GET /api/campaigns/{id}/events';

type Actor = 'A' | 'B';

interface Fixtures {
  A: TenantFixture & { drafts: string[]; cancelled: string[]; suppressed: string[] };
  B: TenantFixture & { drafts: string[]; cancelled: string[]; suppressed: string[] };
}

interface Part {
  text: string;
  reasons: string[];
  crossTenant?: boolean;
}

interface BodyPart {
  kind: string;
  contentType?: string;
  payload?: string | Buffer;
  reasons: string[];
}

interface FuzzRequest {
  op: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  bodyKind: string;
  reasons: string[];
  crossTenant: boolean;
  mayAccept: boolean;
}

/** The campaign action each operation performs, and the statuses that forbid it (api-contract.md). */
const STATE_ACTIONS: Record<string, { forbiddenIn: Array<'draft' | 'cancelled'> }> = {
  'PATCH /api/campaigns/{id}': { forbiddenIn: ['cancelled'] },
  'DELETE /api/campaigns/{id}': { forbiddenIn: ['cancelled'] },
  'POST /api/campaigns/{id}/recipients': { forbiddenIn: ['cancelled'] },
  'POST /api/campaigns/{id}/schedule': { forbiddenIn: ['cancelled'] },
  'POST /api/campaigns/{id}/enqueue': { forbiddenIn: ['cancelled'] },
  'POST /api/campaigns/{id}/pause': { forbiddenIn: ['draft', 'cancelled'] },
  'POST /api/campaigns/{id}/resume': { forbiddenIn: ['draft', 'cancelled'] },
  'POST /api/campaigns/{id}/cancel': { forbiddenIn: ['cancelled'] },
};

const LEAKS: Array<[string, RegExp]> = [
  ['QueryFailedError', /QueryFailedError/],
  ['stack frame', /(^|\\n|\n)\s*at \S+ \(|\bat (?:file:|node:|\/)[^\s]*:\d+/],
  ['SQL', /\bSELECT\s|\bINSERT INTO\b|\bUPDATE\s+"?\w+"?\s+SET\b|\bDELETE FROM\b|syntax error at or near|violates \w+ constraint|invalid byte sequence/i],
  ['node_modules', /node_modules/],
  ['JS error', /TypeError|ReferenceError|RangeError|Cannot read propert|is not a function|undefined is not/],
];

const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 120 });

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** Percent-encodes a path segment; lone surrogates (not encodable) become '?'. */
const seg = (s: string) => encodeURIComponent(s.replace(LONE_SURROGATE, '?'));

describe('bad input (property-based, every OpenAPI operation)', () => {
  let app: TestApp;
  let fx: Fixtures;
  let ops: Operation[];
  const stats = { requests: 0, byStatus: new Map<number, number>(), byOp: new Map<string, number>(), accepted: new Map<string, number>() };

  beforeAll(async () => {
    app = await startApp({ MITTO_BASE_URL: 'http://127.0.0.1:9' });
    const a = await createTenant(app.url);
    const b = await createTenant(app.url);
    const ok = (res: { status: number; body: unknown }, status: number, what: string) => {
      if (res.status !== status) throw new Error(`fixture ${what}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body as any;
    };
    const c1 = ok(await a.api.post('/api/campaigns', { name: 'fixture one', text: 'Hello {{name}}' }), 201, 'campaign 1');
    ok(
      await a.api.post(`/api/campaigns/${c1.id}/recipients`, {
        recipients: [1, 2, 3].map((i) => ({ phone: phone(i), variables: { name: `R${i}` } })),
      }),
      200,
      'recipients',
    );
    const c2 = ok(await a.api.post('/api/campaigns', { name: 'fixture two', text: 'Second campaign' }), 201, 'campaign 2');
    const c3 = ok(await a.api.post('/api/campaigns', { name: 'fixture three', text: 'Cancelled one' }), 201, 'campaign 3');
    ok(await a.api.post(`/api/campaigns/${c3.id}/cancel`), 200, 'cancel');
    ok(await a.api.post('/api/suppressions', { phone: '+41798888888', reason: 'fixture' }), 201, 'suppression');
    const cb = ok(await b.api.post('/api/campaigns', { name: 'tenant B campaign', text: 'From B' }), 201, 'campaign B');
    fx = {
      A: { ...a, drafts: [c1.id, c2.id], cancelled: [c3.id], suppressed: ['+41798888888'] },
      B: { ...b, drafts: [cb.id], cancelled: [], suppressed: [] },
    };
    const doc = await (await fetch(`${app.url}/api/docs-json`)).json();
    ops = operationsOf(doc as any);
    if (process.env.FUZZ_DEBUG) console.log(JSON.stringify(ops.map((o) => ({ k: o.key, s: o.security, q: o.queryParams.map((p) => [p.name, p.schema]), b: o.body && { req: o.body.required, props: Object.keys(o.body.properties ?? {}), ...(o.body.properties ? {} : o.body) }, ct: o.bodyContentTypes })), null, 0));
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  async function snapshot(): Promise<Record<string, { rows: number; md5: string | null }>> {
    const out: Record<string, { rows: number; md5: string | null }> = {};
    for (const table of TABLES) {
      const [row] = await app.db.query(
        `SELECT count(*)::int AS rows, md5(string_agg(t::text, ',' ORDER BY t::text)) AS md5 FROM ${table} t`,
      );
      out[table] = { rows: row.rows, md5: row.md5 };
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Generators
  // ------------------------------------------------------------------------------------------

  const other = (actor: Actor): Actor => (actor === 'A' ? 'B' : 'A');

  function authArb(op: Operation): fc.Arbitrary<{ headers: Record<string, string>; actor: Actor; valid: boolean; desc: string }> {
    const bad = (desc: string, headers: Record<string, string>) => ({ headers, actor: 'A' as Actor, valid: false, desc });
    const A = fx.A.apiKey;
    switch (op.security) {
      case 'tenant':
        return fc.oneof(
          { weight: 5, arbitrary: fc.constant({ headers: { authorization: `Bearer ${A}` }, actor: 'A' as Actor, valid: true, desc: 'tenant A' }) },
          { weight: 2, arbitrary: fc.constant({ headers: { authorization: `Bearer ${fx.B.apiKey}` }, actor: 'B' as Actor, valid: true, desc: 'tenant B' }) },
          {
            weight: 4,
            arbitrary: fc.oneof(
              fc.constant(bad('no auth', {})),
              printable.map((t) => bad('random bearer', { authorization: `Bearer ${t}` })),
              fc.constant(bad('huge bearer', { authorization: `Bearer ${'k'.repeat(6000)}` })),
              fc.constant(bad('Basic scheme', { authorization: `Basic ${A}` })),
              fc.constant(bad('admin key as bearer', { authorization: `Bearer ${ADMIN_KEY}` })),
              fc.constant(bad('admin header only', { 'x-admin-api-key': ADMIN_KEY })),
              fc.constant(bad('webhook secret as bearer', { authorization: `Bearer ${WEBHOOK_SECRET}` })),
              fc.constant(bad('truncated key', { authorization: `Bearer ${A.slice(0, -1)}` })),
              fc.constant(bad('key + suffix', { authorization: `Bearer ${A}x` })),
              fc.constant(bad('two keys', { authorization: `Bearer ${A} ${A}` })),
              fc.constant(bad('bare key', { authorization: A })),
              fc.constant(bad('empty bearer', { authorization: 'Bearer' })),
            ),
          },
        );
      case 'admin':
        return fc.oneof(
          { weight: 5, arbitrary: fc.constant({ headers: { 'x-admin-api-key': ADMIN_KEY }, actor: 'A' as Actor, valid: true, desc: 'admin' }) },
          {
            weight: 4,
            arbitrary: fc.oneof(
              fc.constant(bad('no auth', {})),
              printable.map((t) => bad('random admin key', { 'x-admin-api-key': t })),
              fc.constant(bad('admin key + suffix', { 'x-admin-api-key': `${ADMIN_KEY}x` })),
              fc.constant(bad('admin key prefix', { 'x-admin-api-key': ADMIN_KEY.slice(0, -1) })),
              fc.constant(bad('admin key upper-cased', { 'x-admin-api-key': ADMIN_KEY.toUpperCase() })),
              fc.constant(bad('tenant key as admin key', { 'x-admin-api-key': A })),
              fc.constant(bad('admin key as bearer', { authorization: `Bearer ${ADMIN_KEY}` })),
              fc.constant(bad('tenant bearer', { authorization: `Bearer ${A}` })),
              fc.constant(bad('huge admin key', { 'x-admin-api-key': 'k'.repeat(6000) })),
            ),
          },
        );
      case 'webhook':
        return fc.oneof(
          { weight: 4, arbitrary: fc.constant({ headers: { 'x-webhook-secret': WEBHOOK_SECRET }, actor: 'A' as Actor, valid: true, desc: 'webhook secret' }) },
          {
            weight: 3,
            arbitrary: fc.oneof(
              fc.constant(bad('no auth', {})),
              printable.map((t) => bad('random secret', { 'x-webhook-secret': t })),
              fc.constant(bad('secret + suffix', { 'x-webhook-secret': `${WEBHOOK_SECRET}x` })),
              fc.constant(bad('admin key as secret', { 'x-webhook-secret': ADMIN_KEY })),
              fc.constant(bad('secret as bearer', { authorization: `Bearer ${WEBHOOK_SECRET}` })),
            ),
          },
        );
      default:
        return fc.constant({ headers: {}, actor: 'A' as Actor, valid: true, desc: 'no security' });
    }
  }

  const malformedId: fc.Arbitrary<Part> = fc.oneof(
    weirdString(60).filter((s) => !/^\.{0,2}$/.test(s)).map((s) => ({ text: seg(s), reasons: ['malformed id'] })),
    fc.integer({ min: 500, max: 4000 }).map((n) => ({ text: 'a'.repeat(n), reasons: ['huge id'] })),
    // Encoded, 21 bytes per repetition: the request line stays under Node's 16 KB header limit (see the report).
    fc.integer({ min: 50, max: 300 }).map((n) => ({ text: seg('😀‮'.repeat(n)), reasons: ['huge unicode id'] })),
    fc.constantFrom('../', '..%2f', '%2e%2e%2f', '%00', '%', '%zz', '%C0%AE', '%FF', '..%00', '%2F').map((text) => ({ text, reasons: ['raw path trick'] })),
    fc.uuid().chain((u) =>
      fc.constantFrom(`${u}x`, `{${u}}`, u.replace(/-/g, ''), `${u}%00`, ` ${u}`, `${u}%2F..`, `${u.slice(0, -1)}g`, `${u};drop`).map((v) => ({
        text: v.includes('%') || v.includes('/') ? v : seg(v),
        reasons: ['almost-uuid id'],
      })),
    ),
    fc.constantFrom('null', 'undefined', '0', '-1', '1e309', 'NaN', "' OR '1'='1", 'SELECT 1').map((v) => ({ text: seg(v), reasons: ['malformed id'] })),
  );

  function pathParamArb(op: Operation, param: string, actor: Actor): fc.Arbitrary<Part> {
    const me = fx[actor];
    const them = fx[other(actor)];
    const random = fc.uuid().map((u) => ({ text: u, reasons: ['unknown id'] }));
    const opts: Array<fc.WeightedArbitrary<Part>> = [
      { weight: 2, arbitrary: random },
      { weight: 3, arbitrary: malformedId },
    ];
    if (param === 'phone') {
      if (me.suppressed.length) opts.push({ weight: 3, arbitrary: fc.constantFrom(...me.suppressed).map((p) => ({ text: seg(p), reasons: [] })) });
      if (them.suppressed.length) {
        opts.push({ weight: 3, arbitrary: fc.constantFrom(...them.suppressed).map((p) => ({ text: seg(p), reasons: ["other tenant's suppression"], crossTenant: true })) });
      }
      opts.push({
        weight: 3,
        arbitrary: fc.tuple(fc.integer({ min: 0, max: 9_999_999 }), fc.boolean()).map(([i, national]) => ({
          // +4177…: never the range schema-valid bodies use (+4176…), so a wrongly accepted POST cannot make this 204.
          text: seg(national ? `077${String(i).padStart(7, '0')}` : `+4177${String(i).padStart(7, '0')}`),
          reasons: ['phone not on the list'],
        })),
      });
    } else if (op.path.startsWith('/api/admin/tenants')) {
      opts.push({ weight: 3, arbitrary: fc.constantFrom(fx.A.tenantId, fx.B.tenantId).map((id) => ({ text: id, reasons: [] })) });
    } else if (op.path.startsWith('/api/campaigns')) {
      const state = STATE_ACTIONS[op.key];
      const drafts = me.drafts.flatMap((id) => [id, id.toUpperCase()]);
      opts.push({
        weight: 4,
        arbitrary: fc.constantFrom(...drafts).map((id) => ({ text: id, reasons: state?.forbiddenIn.includes('draft') ? ['forbidden in draft'] : [] })),
      });
      if (me.cancelled.length) {
        opts.push({
          weight: 2,
          arbitrary: fc.constantFrom(...me.cancelled).map((id) => ({ text: id, reasons: state?.forbiddenIn.includes('cancelled') ? ['forbidden when cancelled'] : [] })),
        });
      }
      const theirs = [...them.drafts, ...them.cancelled];
      opts.push({ weight: 3, arbitrary: fc.constantFrom(...theirs).map((id) => ({ text: id, reasons: ["other tenant's campaign"], crossTenant: true })) });
    }
    return fc.oneof(...opts);
  }

  function queryArb(op: Operation): fc.Arbitrary<Part> {
    const known = op.queryParams.map((p) => p.name);
    const unknownKey = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('tenantId', 'sort', 'offset', 'PAGE', 'page ', 'limit[]'))
      .filter((k) => !known.includes(k) && k !== '__proto__' && !/[\ud800-\udfff]/.test(k));
    const junkValue = fc.oneof(weirdString(30), fc.constantFrom('1', '-1', '1e309', 'true'));
    const valid = fc
      .tuple(...(op.queryParams.length ? op.queryParams.map((p) => fc.option(validQueryValue(p.schema), { nil: undefined })) : [fc.constant(undefined)]))
      .map((vals) => op.queryParams.flatMap((p, i) => (vals[i] === undefined ? [] : [[p.name, vals[i]] as [string, string]])));
    const opts: Array<fc.WeightedArbitrary<Part>> = [{ weight: 3, arbitrary: fc.constant({ text: '', reasons: [] }) }];
    if (op.queryParams.length === 0) {
      opts.push({ weight: 1, arbitrary: fc.tuple(unknownKey, junkValue).map(([k, v]) => ({ text: queryString([[k, v]]), reasons: [] })) });
      return fc.oneof(...opts);
    }
    opts.push(
      { weight: 1, arbitrary: valid.map((entries) => ({ text: queryString(entries), reasons: [] })) },
      {
        weight: 4,
        arbitrary: fc
          .tuple(valid, fc.constantFrom(...op.queryParams))
          .chain(([entries, p]) =>
            invalidQueryValue(p.schema).map((bad) => ({
              text: queryString([...entries.filter(([k]) => k !== p.name), [p.name, bad]]),
              reasons: [`bad query ${p.name}`],
            })),
          ),
      },
      {
        weight: 2,
        arbitrary: fc.tuple(valid, unknownKey, junkValue).map(([entries, k, v]) => ({
          text: queryString([...entries, [k, v]]),
          reasons: [`unknown query key ${JSON.stringify(k)}`],
        })),
      },
      { weight: 1, arbitrary: fc.constantFrom('?page=%zz', '?limit=%00', '?page=1&page=2&page=x', '?status=%E0%A4%A').map((text) => ({ text, reasons: ['raw bad query'] })) },
    );
    return fc.oneof(...opts);
  }

  function bodyArb(op: Operation, authValid: boolean): fc.Arbitrary<BodyPart> {
    if (op.method === 'GET' || op.method === 'HEAD') return fc.constant({ kind: 'none', reasons: [] });
    const isWebhook = op.security === 'webhook';
    const dto = op.body && op.body.properties && !isWebhook ? op.body : undefined;
    const isRecipients = op.bodyContentTypes.includes('text/csv');
    const needsBody = isRecipients || (dto?.required?.length ?? 0) > 0;
    const validJson = dto ? validValue(dto) : fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
    const opts: Array<fc.WeightedArbitrary<BodyPart>> = [
      { weight: 2, arbitrary: fc.constant({ kind: 'none', reasons: needsBody ? ['no body'] : [] }) },
      { weight: 1, arbitrary: validJson.map((v) => ({ kind: 'valid json', contentType: 'application/json', payload: serialize(v), reasons: [] })) },
      { weight: 3, arbitrary: malformedJson.map((t) => ({ kind: 'malformed json', contentType: 'application/json', payload: t, reasons: ['malformed JSON'] })) },
      {
        weight: 1,
        arbitrary: fc.tuple(validJson, fc.constantFrom('application/json; charset=latin1', 'application/json; charset=ascii', 'application/json; charset=iso-8859-1', 'application/json; charset=koi8-r'))
          .map(([v, ct]) => ({ kind: 'bad charset', contentType: ct, payload: serialize(v), reasons: ['unsupported charset'] })),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.constantFrom('text/plain', 'application/xml', 'text/xml', 'multipart/form-data; boundary=----fuzz', 'application/x-www-form-urlencoded', 'text/html', 'application/octet-stream', 'application/jsonp', 'json', null),
            fc.oneof(validJson.map(serialize), fc.constant('<?xml version="1.0"?><campaign><name>x</name></campaign>'), fc.constant('------fuzz\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n------fuzz--\r\n'), fc.constant('name=x&text=y'), weirdString(200)),
          )
          .map(([ct, payload]) => ({
            kind: `content-type ${ct ?? '(none)'}`,
            ...(ct ? { contentType: ct, payload } : { payload: Buffer.from(payload) }),
            reasons: needsBody ? ['wrong content type'] : [],
          })),
      },
      { weight: 1, arbitrary: fc.constant({ kind: 'empty json', contentType: 'application/json', payload: '', reasons: needsBody ? ['empty body'] : [] }) },
      {
        weight: 1,
        arbitrary: fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT + 200_000 }).map((n) => ({
          kind: 'over the body limit',
          contentType: 'application/json',
          payload: `{"name":"${'x'.repeat(n)}"}`,
          reasons: ['body over the limit'],
        })),
      },
    ];
    if (dto) {
      opts.push(
        { weight: 8, arbitrary: corruptObject(dto).map((v) => ({ kind: 'schema-breaking json', contentType: 'application/json', payload: serialize(v), reasons: ['schema-breaking body'] })) },
        {
          weight: 1,
          arbitrary: fc.tuple(corruptObject(dto), fc.constantFrom('application/vnd.api+json', 'application/json; charset=utf-8', 'APPLICATION/JSON'))
            .map(([v, ct]) => ({ kind: `schema-breaking ${ct}`, contentType: ct, payload: serialize(v), reasons: ['schema-breaking body'] })),
        },
        {
          weight: 1,
          arbitrary: fc.oneof(validJson.map((v) => [v]), fc.constant([]), fc.constant([[]]))
            .map((v) => ({ kind: 'array instead of object', contentType: 'application/json', payload: serialize(v), reasons: ['array body'] })),
        },
        {
          weight: 1,
          arbitrary: fc.tuple(validJson, fc.integer({ min: 10_000, max: 100_000 })).map(([v, n]) => ({
            kind: 'huge unknown field',
            contentType: 'application/json',
            payload: serialize({ ...(v as object), zzHuge: '😀'.repeat(n / 2) }),
            reasons: ['unknown field'],
          })),
        },
      );
    }
    if (isRecipients) {
      opts.push({
        weight: 3,
        arbitrary: fc
          .oneof(
            fc.constant(''),
            fc.constant('\n\n'),
            fc.constant('phone,Phone\n+41790000001,+41790000002\n'),
            fc.constant(' PHONE ,phone\n1,2\n'),
            fc.tuple(fc.array(weirdString(20).filter((h) => !/phone/i.test(h) && !/[",\r\n]/.test(h)), { minLength: 1, maxLength: 4 }), fc.array(weirdString(30), { maxLength: 5 }))
              .map(([headers, rows]) => `${headers.join(',')}\n${rows.map((r) => `+4179000000${r.length % 10},${r}`).join('\n')}`),
          )
          .map((csv) => ({ kind: 'csv without a usable phone column', contentType: 'text/csv', payload: csv, reasons: ['CSV without a usable phone column'] })),
      });
    }
    if (isWebhook && authValid) {
      const report = fc.record(
        {
          messageId: fc.oneof(weirdString(40), fc.uuid(), fc.integer(), fc.constant(null), fc.constant('\u0000'), fc.array(fc.string(), { maxLength: 2 })),
          deliveryStatus: fc.oneof(fc.constantFrom('delivered', 'undelivered', 'failed', 'sent', 'DELIVERED', '', 'unknown'), weirdString(20), fc.integer()),
          description: weirdString(100),
          updatedAt: fc.oneof(fc.constantFrom('2030-01-01T00:00:00Z', 'yesterday', '', '99999-12-31T00:00:00Z'), fc.integer(), weirdString(20)),
          reference: fc.oneof(weirdString(40), fc.uuid(), fc.constant('\u0000'), fc.integer()),
          extra: fc.jsonValue({ maxDepth: 2 }),
        },
        { requiredKeys: [] },
      );
      opts.push({
        weight: 6,
        arbitrary: fc
          .oneof(report, fc.array(report, { maxLength: 20 }), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }), fc.constant({}), fc.constant([]))
          .map((v) => ({ kind: 'odd delivery reports', contentType: 'application/json', payload: serialize(v), reasons: [] })),
      });
    }
    return fc.oneof(...opts);
  }

  function requestArb(op: Operation): fc.Arbitrary<FuzzRequest> {
    const mayAcceptOp = (op.method === 'GET' && op.key !== EVENTS_OP) || op.security === 'webhook';
    return authArb(op)
      .chain((auth) =>
        fc.record({
          auth: fc.constant(auth),
          path: fc.tuple(...(op.pathParams.length ? op.pathParams.map((p) => pathParamArb(op, p, auth.actor)) : [fc.constant<Part>({ text: '', reasons: [] })])),
          query: queryArb(op),
          body: bodyArb(op, auth.valid),
        }),
      )
      .map(({ auth, path, query, body }) => {
        let url = op.path;
        op.pathParams.forEach((p, i) => {
          url = url.replace(`{${p}}`, path[i].text);
        });
        const reasons = [
          ...(auth.valid ? [] : [`bad auth: ${auth.desc}`]),
          ...path.flatMap((p) => p.reasons),
          ...query.reasons,
          ...body.reasons,
        ];
        const crossTenant = auth.valid && path.some((p) => p.crossTenant);
        return {
          op: op.key,
          method: op.method,
          url: `${url}${query.text}`,
          headers: { ...auth.headers, ...(body.contentType ? { 'content-type': body.contentType } : {}) },
          body: body.payload,
          bodyKind: body.kind,
          reasons,
          crossTenant,
          mayAccept: mayAcceptOp && reasons.length === 0,
        };
      })
      .filter((r) => r.reasons.length > 0 || r.mayAccept)
      .filter((r) => !EXCLUDE_KNOWN || !knownBug(r));
  }

  /** The reported bugs: Object.prototype member names as fields / query keys, `offset` in the query, NUL in webhook reports,
   *  arrays as recipients items. */
  function knownBug(r: FuzzRequest): boolean {
    const body = r.body === undefined ? '' : r.body.toString();
    const query = r.url.includes('?') ? r.url.slice(r.url.indexOf('?') + 1) : '';
    const queryKeys = query.split('&').map((kv) => {
      try {
        return decodeURIComponent(kv.split('=')[0]);
      } catch {
        return kv;
      }
    });
    return (
      PROTO_KEYS.some((k) => body.includes(`"${k}":`) || queryKeys.includes(k)) ||
      queryKeys.includes('offset') ||
      (r.op.includes('/webhooks/') && body.includes('\\u0000')) ||
      (r.op.endsWith('/recipients') && /"recipients":\[(?:[^\]]*,)?\s*\[/.test(body))
    );
  }

  // ------------------------------------------------------------------------------------------
  // Invariants
  // ------------------------------------------------------------------------------------------

  function describeRequest(r: FuzzRequest): string {
    const body = r.body === undefined ? '(none)' : typeof r.body === 'string' ? r.body : `<buffer> ${r.body.toString()}`;
    const shown = body.length > 300 ? `${JSON.stringify(body.slice(0, 300))}… (${body.length} chars)` : JSON.stringify(body);
    return `${r.method} ${r.url.length > 300 ? `${r.url.slice(0, 300)}… (${r.url.length} chars)` : r.url}\n  headers: ${JSON.stringify(r.headers).slice(0, 300)}\n  body [${r.bodyKind}]: ${shown}\n  reasons to refuse: ${r.reasons.join('; ') || '(none: may succeed)'}`;
  }

  async function send(r: FuzzRequest): Promise<void> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${app.url}${r.url}`, { method: r.method, headers: r.headers, body: r.body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      text = await res.text();
    } catch (e) {
      throw new Error(`request failed (${(e as Error).message})\n${describeRequest(r)}`, { cause: e });
    }
    stats.requests++;
    stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
    stats.byOp.set(r.op, (stats.byOp.get(r.op) ?? 0) + 1);
    if (res.status < 300) stats.accepted.set(r.op, (stats.accepted.get(r.op) ?? 0) + 1);

    const problems: string[] = [];
    if (res.status >= 500) problems.push(`status ${res.status} (≥ 500)`);
    if (res.status < 400 && r.reasons.length > 0) problems.push(`status ${res.status} although the request should be refused`);
    if (res.status < 300 && r.crossTenant) problems.push(`another tenant's resource answered ${res.status}`);
    for (const [name, secret] of [['admin key', ADMIN_KEY], ['webhook secret', WEBHOOK_SECRET], ['Mitto API key', SANDBOX_KEY], ["tenant A's API key", fx.A.apiKey], ["tenant B's API key", fx.B.apiKey]]) {
      if (text.includes(secret)) problems.push(`response contains the ${name}`);
    }
    if (res.status >= 400) {
      let body: any;
      try {
        body = JSON.parse(text);
      } catch {
        problems.push('error response is not JSON');
      }
      if (body !== undefined) {
        const error = body?.error;
        if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).join(',') !== 'error') problems.push('error body is not exactly { error }');
        else if (!error || typeof error !== 'object' || Array.isArray(error)) problems.push('error is not an object');
        else {
          if (typeof error.code !== 'string' || !/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/.test(error.code)) problems.push('error.code is not UPPER_SNAKE_CASE');
          if (typeof error.message !== 'string' || error.message.length === 0) problems.push('error.message is not a non-empty string');
          if (error.details !== undefined && (typeof error.details !== 'object' || error.details === null || Array.isArray(error.details))) {
            problems.push('error.details is not an object');
          }
          const extra = Object.keys(error).filter((k) => !['code', 'message', 'details'].includes(k));
          if (extra.length) problems.push(`unexpected keys in error: ${extra.join(', ')}`);
        }
      }
      if (!/^application\/json/.test(res.headers.get('content-type') ?? '')) problems.push(`error content-type is ${res.headers.get('content-type')}`);
      for (const [name, re] of LEAKS) if (re.test(text)) problems.push(`error body leaks ${name}`);
    }
    if (problems.length > 0) {
      throw new Error(`${problems.join('; ')}\n${describeRequest(r)}\n  response: ${res.status} ${text.slice(0, 600)}`);
    }
  }

  it(
    'refuses bad input on every operation with a 4xx contract error body, never a 5xx, and changes nothing',
    async () => {
      const started = Date.now();
      stats.requests = 0;
      stats.byStatus.clear();
      stats.byOp.clear();
      stats.accepted.clear();
      const keys = ops.map((o) => o.key);
      expect(keys.length).toBeGreaterThan(20);
      expect(keys).toContain(EVENTS_OP);
      const before = await snapshot();
      const perOp = Math.max(3, Math.ceil(RUNS / ops.length));
      const failures: string[] = [];
      const baseSeed = SEED ?? Math.floor(Math.random() * 2 ** 31);
      for (const [i, op] of ops.entries()) {
        const details = await fc.check(fc.asyncProperty(requestArb(op), send), { numRuns: perOp, seed: baseSeed + i });
        if (details.failed) {
          const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
          failures.push(
            `${op.key} (replay the run: FUZZ_SEED=${baseSeed} FUZZ_RUNS=${RUNS}; op seed ${details.seed}, path ${details.counterexamplePath}, after ${details.numRuns} runs, shrunk ${details.numShrinks}x):\n${error.slice(0, 3000)}`,
          );
        }
      }
      const after = await snapshot();
      const seconds = ((Date.now() - started) / 1000).toFixed(1);

      const byStatus = Object.fromEntries([...stats.byStatus].sort(([a], [b]) => a - b));
      const byOp = Object.fromEntries(ops.map((o) => [o.key, `${stats.byOp.get(o.key) ?? 0} sent, ${stats.accepted.get(o.key) ?? 0} 2xx`]));
      console.log(
        `bad-input fuzz: FUZZ_RUNS=${RUNS} (${perOp} runs per operation, ${ops.length} operations), FUZZ_SEED=${baseSeed}, ` +
          `${stats.requests} requests in ${seconds} s\nper status: ${JSON.stringify(byStatus)}\nper operation:\n${Object.entries(byOp)
            .map(([k, v]) => `  ${k}: ${v}`)
            .join('\n')}\n${failures.length} operation(s) with a failing property`,
      );

      const notHit = ops.filter((o) => !stats.byOp.get(o.key)).map((o) => o.key);
      expect(notHit).toEqual([]);
      if (failures.length) console.log(`failures:\n\n${failures.join('\n\n')}`);
      expect(failures).toEqual([]);
      expect(after).toEqual(before);
    },
    60 * 60_000,
  );

  /**
   * Fixed examples: inputs the fuzzer found (kept so they are checked on every run, whatever the seed)
   * and edge cases too rare to rely on chance for. Same invariants as the property.
   */
  it('refuses the known bad inputs (regressions found by the fuzzer)', async () => {
    const A = { authorization: `Bearer ${fx.A.apiKey}` };
    const json = { ...A, 'content-type': 'application/json' };
    const [draft] = fx.A.drafts;
    const [theirs] = fx.B.drafts;
    const cases: FuzzRequest[] = [
      // A NUL character in a delivery report's messageId reaches PostgreSQL (text cannot hold 0x00).
      { method: 'POST', url: '/api/webhooks/mitto/delivery-reports', headers: { 'x-webhook-secret': WEBHOOK_SECRET, 'content-type': 'application/json' },
        body: JSON.stringify([{ messageId: '\u0000', deliveryStatus: 'delivered' }]), reasons: [], mayAccept: true },
      { method: 'POST', url: '/api/webhooks/mitto/delivery-reports', headers: { 'x-webhook-secret': WEBHOOK_SECRET, 'content-type': 'application/json' },
        body: JSON.stringify({ messageId: 'abc', deliveryStatus: 'delivered\u0000' }), reasons: [], mayAccept: true },
      // `offset` is a getter of PageQuery, not a query parameter.
      { method: 'GET', url: `/api/campaigns/${draft}/messages?offset=%00`, headers: A, reasons: ['unknown query key "offset"'] },
      { method: 'GET', url: `/api/campaigns/${draft}/messages?offset=-5`, headers: A, reasons: ['unknown query key "offset"'] },
      { method: 'GET', url: '/api/campaigns?offset=abc', headers: A, reasons: ['unknown query key "offset"'] },
      { method: 'GET', url: '/api/suppressions?offset=1', headers: A, reasons: ['unknown query key "offset"'] },
      { method: 'GET', url: `/api/campaigns/${theirs}/messages?offset=1`, headers: A, reasons: ["other tenant's campaign"], crossTenant: true },
      // Unknown fields named like Object.prototype members.
      { method: 'GET', url: '/api/suppressions?toString=1', headers: A, reasons: ['unknown query key "toString"'] },
      { method: 'GET', url: '/api/campaigns?constructor=x', headers: A, reasons: ['unknown query key "constructor"'] },
      { method: 'POST', url: '/api/campaigns', headers: json, body: '{"name":"n","text":"t","constructor":{}}', reasons: ['unknown field "constructor"'] },
      { method: 'POST', url: '/api/campaigns', headers: json, body: '{"name":"n","text":"t","toString":"x"}', reasons: ['unknown field "toString"'] },
      { method: 'POST', url: '/api/campaigns', headers: json, body: '{"name":"n","text":"t","__proto__":{"x":1}}', reasons: ['unknown field "__proto__"'] },
      { method: 'PATCH', url: `/api/campaigns/${draft}`, headers: json, body: '{"hasOwnProperty":1}', reasons: ['unknown field "hasOwnProperty"'] },
      { method: 'POST', url: '/api/suppressions', headers: json, body: '{"phone":"+41791112233","constructor":1}', reasons: ['unknown field "constructor"'] },
      { method: 'POST', url: `/api/campaigns/${draft}/recipients`, headers: json, body: '{"recipients":[{"phone":"+41791112233","constructor":1}]}', reasons: ['unknown field "constructor"'] },
      // An array where a recipient object is expected passes the DTO (ValidateNested recurses into arrays).
      { method: 'POST', url: `/api/campaigns/${draft}/recipients`, headers: json, body: '{"recipients":[[]]}', reasons: ['recipients item is an array'] },
      { method: 'POST', url: `/api/campaigns/${draft}/recipients`, headers: json, body: '{"recipients":[[{"phone":"+41791112233"}]]}', reasons: ['recipients item is an array'] },
      // NUL and friends in fields that pass validation but reach PostgreSQL: only on unknown ids (404 first).
      { method: 'PATCH', url: '/api/campaigns/00000000-0000-4000-8000-000000000000', headers: json, body: '{"name":"a\\u0000b"}', reasons: ['unknown id'] },
      { method: 'DELETE', url: `/api/suppressions/${seg('+4179\u00001234567')}`, headers: A, reasons: ['malformed phone'] },
      { method: 'GET', url: `/api/campaigns/${seg('\u0000')}`, headers: A, reasons: ['malformed id'] },
      // A request line over Node's 16 KB header limit.
      { method: 'GET', url: `/api/campaigns/${'a'.repeat(20_000)}`, headers: A, reasons: ['huge id'] },
    ].map((c) => ({ op: 'known case', bodyKind: 'fixed', crossTenant: false, mayAccept: false, ...c }) as FuzzRequest);
    const before = await snapshot();
    const failures: string[] = [];
    for (const c of cases) {
      try {
        await send(c);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
    const after = await snapshot();
    if (failures.length) console.log(`known bad inputs, failures:\n\n${failures.join('\n\n')}`);
    expect(failures).toEqual([]);
    expect(after).toEqual(before);
  });
});
