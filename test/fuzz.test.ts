import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { sql } from 'kysely';
import { createTestContext, signedHeaders, type TestContext } from './helpers/harness.ts';
import { depositAndConfirm, offrampCustomer, runPipeline } from './helpers/pipeline.ts';
import { createAdjustableClock, systemClock } from '../src/infra/lib/clock.ts';
import { TABLE_OWNERS, type TableName } from '../src/infra/db/ownership.ts';

/**
 * docs/quality-bars.md: generated malformed requests on every route of the OpenAPI document — the
 * partner API, the sandbox and money-path routes and the operator API (property-based): no 5xx,
 * no write. Routes, path, body and query parameters are read from the running app's own OpenAPI
 * document; the route list below must match it exactly, so a new route fails this file until it
 * is listed, and is then fuzzed without more editing. Each generated request is sent without
 * valid credentials (→ 401) and with them (a signature, or the operator's bearer token: → 401/413/422,
 * a 200 only for a GET whose query happens to be valid). Reproduce a failure with
 * OPENRAMP_FUZZ_SEED=<seed> (fast-check prints it).
 */

const RUNS = Number(process.env.OPENRAMP_FUZZ_RUNS ?? 120);
const SEED = process.env.OPENRAMP_FUZZ_SEED ? Number(process.env.OPENRAMP_FUZZ_SEED) : undefined;
const BODY_LIMIT = 1_048_576;

/**
 * Every table but the three a refused request may legitimately touch: a valid signature claims its
 * nonce, each request counts against the rate limit, and an Idempotency-Key may be stored.
 */
const MAY_WRITE = new Set<TableName>(['auth_nonces', 'rate_limit_windows', 'idempotency_keys']);
const TABLES = (Object.keys(TABLE_OWNERS) as TableName[]).filter((t) => !MAY_WRITE.has(t));

/** Every route of the OpenAPI document (the test below fails when the document has one more or one less). */
const EXPECTED_ROUTES = [
  'POST /customer/create',
  'GET /customer/detail',
  'GET /customer/list',
  'POST /bank-account/add',
  'GET /bank-account/detail',
  'GET /bank-account/list',
  'POST /deposit-address/create',
  'GET /deposit-address/detail',
  'GET /deposit-address/list',
  'POST /autoramp-flow/offramp',
  'POST /autoramp-flow/create',
  'GET /autoramp-flow/detail',
  'GET /autoramp-flow/list',
  'POST /autoramp-flow/delete',
  'POST /autoramp-flow/update-status',
  'GET /autoramp-flow/trade-preview',
  'GET /health',
  'GET /basic-info',
  'GET /balance',
  'GET /callback-url',
  'POST /callback-url',
  'GET /subscribed-events',
  'POST /subscribed-events',
  'GET /ip-white-list',
  'POST /ip-white-list',
  'POST /sandbox/customer/decide',
  'GET /webhook-delivery/list',
  'POST /webhook-delivery/redeliver',
  'GET /event/list',
  'GET /deposit/detail',
  'GET /deposit/list',
  'POST /deposit/mock',
  'POST /sandbox/chain/transfer',
  'POST /sandbox/chain/reorg',
  'POST /sandbox/time/advance',
  'GET /trade/detail',
  'GET /trade/list',
  'GET /payout/detail',
  'GET /payout/list',
  'POST /payout/retry',
  'POST /sandbox/payout/return',
  'POST /ops/partners',
  'GET /ops/partners',
  'GET /ops/partners/{partnerId}/api-keys',
  'POST /ops/partners/{partnerId}/api-keys',
  'POST /ops/partners/{partnerId}/api-keys/{keyId}/revoke',
  'POST /ops/partners/{partnerId}/webhook-secret/rotate',
  'POST /ops/partners/{partnerId}/idempotency',
  'GET /ops/treasury',
  'POST /ops/treasury/fund',
  'GET /ops/payouts',
  'POST /ops/payouts/{payoutId}/release',
  'POST /ops/payouts/{payoutId}/cancel',
  'GET /ops/reconcile',
  'GET /ops/payout-batches',
  'GET /ops/payout-batches/{batchId}/file',
  'POST /ops/deposits/{depositId}/refund',
  'POST /ops/customers/{customerId}/kyc-decision',
  'GET /ops/partners/{partnerId}/fee-schedule',
  'POST /ops/partners/{partnerId}/fee-schedule',
  'POST /ops/partners/{partnerId}/fee-schedule/reset',
];
/** Routes anyone may call (no signature). */
const PUBLIC_ROUTES = new Set(['GET /health']);

type JsonSchema = { [k: string]: any };
interface RouteInfo {
  key: string;
  method: 'GET' | 'POST';
  path: string;
  isPublic: boolean;
  /** Operator routes take the bearer token instead of a partner signature. */
  isOperator: boolean;
  /** Names of the `{…}` segments of the path; every generated value names nothing that exists. */
  pathParams: string[];
  body: JsonSchema | null;
  validateBody: ValidateFunction | null;
  params: { name: string; required: boolean; schema: JsonSchema }[];
}

interface Body {
  raw: string;
  /** null: no Content-Type header at all. */
  contentType: string | null;
  multipart?: boolean;
}
interface GenRequest {
  kind: string;
  query: string;
  /** Values for the route's path parameters. */
  path?: Record<string, string>;
  body?: Body;
  /** The request is invalid by construction: a signed send must not get a 200. */
  mustFail: boolean;
}
type Unsigned = 'no-headers' | 'garbage-headers' | 'bad-signature' | 'stale-timestamp';

// ---------------------------------------------------------------------------------------------
// Generators

const ID_LIKE = /^(id|from|to|.*Id)$/;
// app.inject() normalises ' " < > in a query (as WHATWG URL does), which would break the signature, so they are left out.
const PRINTABLE = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$()*,;:@/?[]{}|\\^`'];
const PERCENT_GARBAGE = [
  '%',
  '%%',
  '%z',
  '%zz',
  '%0',
  '%00',
  '%FF',
  '%C0%AF',
  '%E0%A4%A',
  '%ED%A0%80',
  '%F4%90%80%80',
  '+',
  '&',
  '&&',
  '=',
  '==',
  '[]',
  '[0]',
  '%5B%5D',
  '%26',
  '%3D',
];

/** Weird but type-correct strings: NUL, control characters, lone surrogates, SQL and path noise. */
const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udfff',
    "'; drop table customers; --",
    '../../etc/passwd',
    '%00',
    '\u202e',
    '𝕏'.repeat(30),
    ' ',
    '\t\n',
    'null',
    'undefined',
    '0',
    '-1',
    '1e309',
    'cus_',
    'flw_x',
  ),
);
const hugeString = fc
  .integer({ min: 1_000, max: 300_000 })
  .chain((n) => fc.constantFrom('x', 'é', '\u0000', '😀').map((c) => c.repeat(Math.ceil(n / c.length))));
const garbageQuery = fc
  .array(fc.oneof(fc.constantFrom(...PRINTABLE), fc.constantFrom(...PERCENT_GARBAGE)), { maxLength: 60 })
  .map((a) => a.join(''));
const randomPairs = fc.array(
  fc.tuple(
    fc.oneof(fc.string({ maxLength: 12 }), nastyString),
    fc.oneof(
      fc.string({ maxLength: 12 }),
      nastyString,
      hugeString.map((s) => s.slice(0, 3000)),
    ),
  ),
  { maxLength: 6 },
);
/** Percent-encodes the UTF-8 bytes (lone surrogates become U+FFFD, as any client would send them). */
const enc = (v: string) =>
  [...Buffer.from(v, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
const encodePairs = (pairs: [string, string][]) => pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
const joinQuery = (...parts: string[]) => parts.filter((p) => p !== '').join('&');

function schemaTypes(s: JsonSchema): Set<string> {
  const types = new Set<string>();
  const add = (t: unknown) => (Array.isArray(t) ? t.forEach(add) : typeof t === 'string' && types.add(t));
  add(s.type);
  for (const sub of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) for (const t of schemaTypes(sub)) types.add(t);
  if (s.nullable) types.add('null');
  if (types.has('integer')) types.add('number');
  return types;
}

/** A JSON value of a type the schema does not allow, or a value breaking its enum/length rules. Null for "accepts anything". */
function wrongValue(s: JsonSchema, depth = 0): fc.Arbitrary<unknown> | null {
  const types = schemaTypes(s);
  if (types.size === 0) return null; // no type: anything goes (e.g. a multipart file field)
  const options: fc.Arbitrary<unknown>[] = [];
  if (!types.has('string')) options.push(fc.string({ maxLength: 20 }), nastyString);
  if (!types.has('number')) options.push(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })));
  if (types.has('number') && !types.has('integer')) options.push(fc.constant(1.5));
  if (!types.has('boolean')) options.push(fc.boolean());
  if (!types.has('null')) options.push(fc.constant(null));
  if (!types.has('array')) options.push(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }));
  if (!types.has('object')) options.push(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }));
  if (types.has('string')) {
    if (Array.isArray(s.enum)) options.push(fc.oneof(fc.string({ maxLength: 20 }), nastyString).filter((v) => !s.enum.includes(v)));
    if (typeof s.maxLength === 'number') options.push(hugeString.filter((v) => v.length > s.maxLength));
    if (typeof s.minLength === 'number' && s.minLength > 0) options.push(fc.constant(''));
  }
  if (types.has('array') && s.items && depth < 3) {
    const inner = wrongValue(s.items, depth + 1);
    if (inner) options.push(fc.array(inner, { minLength: 1, maxLength: 3 }));
    if (typeof s.maxItems === 'number') options.push(fc.constant(Array.from({ length: s.maxItems + 1 }, () => 'x')));
  }
  if (types.has('object') && s.properties && depth < 3) {
    const inner = wrongObject(s, depth + 1);
    if (inner) options.push(inner);
  }
  return options.length > 0 ? fc.oneof(...options) : null;
}

/** An object carrying the schema's field names, at least one of them with a wrong value. */
function wrongObject(s: JsonSchema, depth = 0): fc.Arbitrary<Record<string, unknown>> | null {
  const props = Object.entries<JsonSchema>(s.properties ?? {});
  const wrong = props
    .map(([k, p]) => [k, wrongValue(p, depth)] as const)
    .filter((x): x is readonly [string, fc.Arbitrary<unknown>] => x[1] !== null);
  if (wrong.length === 0) return null;
  return fc.tuple(fc.integer({ min: 0, max: wrong.length - 1 }), fc.subarray(wrong.map(([k]) => k))).chain(([forced, others]) => {
    const keys = new Set([wrong[forced]![0], ...others]);
    return fc.record(Object.fromEntries(wrong.filter(([k]) => keys.has(k))));
  });
}

/** Type-correct values with ids nobody has (NUL bytes, unicode, SQL noise): the service layer must refuse them without a 5xx. */
function unknownIdValue(name: string, s: JsonSchema, depth = 0): fc.Arbitrary<unknown> | null {
  const types = schemaTypes(s);
  if (types.has('object') && s.properties) return unknownIdObject(s, depth + 1);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  if (types.has('string')) {
    const len = (v: string) => v.length >= (s.minLength ?? 0) && v.length <= (s.maxLength ?? Infinity);
    return (ID_LIKE.test(name) ? nastyString : fc.string({ maxLength: 30 })).filter(len);
  }
  if (types.has('boolean')) return fc.boolean();
  if (types.has('null')) return fc.constant(null);
  return null;
}
function unknownIdObject(s: JsonSchema, depth = 0): fc.Arbitrary<Record<string, unknown>> | null {
  const required: string[] = s.required ?? [];
  const entries: [string, fc.Arbitrary<unknown>][] = [];
  for (const k of required) {
    const arb = unknownIdValue(k, s.properties[k], depth);
    if (!arb) return null;
    entries.push([k, arb]);
  }
  return fc.record(Object.fromEntries(entries));
}
/** True when a schema-valid body with these required fields must be refused (an id it names cannot exist). */
function requiresAnId(s: JsonSchema): boolean {
  return (s.required ?? []).some(
    (k: string) =>
      (ID_LIKE.test(k) && schemaTypes(s.properties[k]).has('string')) || (s.properties[k]?.properties && requiresAnId(s.properties[k])),
  );
}

function deepJson(field: string, depth: number, kind: 'array' | 'object'): string {
  const open = kind === 'array' ? '['.repeat(depth) : '{"a":'.repeat(depth);
  const close = kind === 'array' ? ']'.repeat(depth) : `${'1'}${'}'.repeat(depth)}`;
  return `{${JSON.stringify(field)}:${open}${close}}`;
}

function multipart(fields: [string, string][], boundary: string): string {
  return `${fields.map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('')}--${boundary}--\r\n`;
}

const json = (raw: string): Body => ({ raw, contentType: 'application/json' });

function bodyRequests(r: RouteInfo): fc.Arbitrary<GenRequest>[] {
  const schema = r.body ?? { type: 'object', properties: {} };
  const fields = Object.keys(schema.properties ?? {});
  const field = fields.length > 0 ? fc.constantFrom(...fields) : fc.constant('x');
  const schemaValid = (raw: string) => {
    try {
      return r.validateBody !== null && r.validateBody(JSON.parse(raw)) === true;
    } catch {
      return false;
    }
  };
  const q = fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: garbageQuery });
  const malformed = (kind: string, body: fc.Arbitrary<Body>) =>
    fc
      .record({ query: q, body })
      .filter(({ body }) => body.multipart === true || body.contentType !== 'application/json' || !schemaValid(body.raw))
      .map(({ query, body }): GenRequest => ({ kind, query, body, mustFail: true }));

  const arbs: fc.Arbitrary<GenRequest>[] = [
    malformed(
      'anything',
      fc.oneof(fc.anything(), fc.jsonValue()).map((v) => json(JSON.stringify(v) ?? '')),
    ),
    malformed(
      'invalid-json',
      fc
        .oneof(
          fc.string({ maxLength: 50 }),
          fc.constantFrom('{', '{"a":', '[1,]', "{'a':1}", '{"a":1}}', 'NaN', '\uFEFF{}', '{"a":1,}', '{"a":01}', '"\\x"', '{"__proto__":'),
          fc
            .jsonValue()
            .map((v) => JSON.stringify(v))
            .filter((s) => s.length > 2)
            .chain((s) => fc.integer({ min: 1, max: s.length - 1 }).map((n) => s.slice(0, n))),
        )
        .filter((s) => {
          try {
            JSON.parse(s);
            return false;
          } catch {
            return true;
          }
        })
        .map(json),
    ),
    malformed(
      'huge-string',
      fc.tuple(field, hugeString).map(([f, s]) => json(JSON.stringify({ [f]: s }))),
    ),
    malformed(
      'deep-nesting',
      fc
        .tuple(field, fc.integer({ min: 500, max: 150_000 }), fc.constantFrom('array' as const, 'object' as const))
        .map(([f, d, k]) => json(deepJson(f, d, k))),
    ),
    malformed(
      'empty-body',
      fc.constantFrom<Body>(
        { raw: '', contentType: 'application/json' },
        { raw: '', contentType: null },
        { raw: 'null', contentType: 'application/json' },
      ),
    ),
    malformed(
      'wrong-content-type',
      fc
        .tuple(
          fc.constantFrom(
            'text/plain',
            'application/xml',
            'application/x-www-form-urlencoded',
            'application/octet-stream',
            'text/json',
            'application/jsonx',
            'image/png',
            'foo',
            '',
            ';',
            'application/',
            '/json',
            'application/json/x',
            'a b/c',
          ),
          fc.oneof(
            fc.jsonValue().map((v) => JSON.stringify(v)),
            fc.string({ minLength: 1, maxLength: 40 }),
            fc.constant(fields.map((f) => `${f}=x`).join('&') || 'a=b'),
          ),
        )
        .map(([contentType, raw]) => ({ raw: raw || 'x', contentType })),
    ),
    malformed(
      'missing-content-type',
      fc.jsonValue().map((v) => ({ raw: JSON.stringify(v) || '{}', contentType: null })),
    ),
    malformed(
      'multipart-garbage',
      fc
        .tuple(
          fc.string({ maxLength: 200 }),
          fc.constantFrom(
            'multipart/form-data',
            'multipart/form-data; boundary=',
            'multipart/form-data; boundary=XyZ',
            'multipart/mixed; boundary=XyZ',
          ),
        )
        .map(([raw, contentType]) => ({ raw: raw || '--XyZ', contentType, multipart: true })),
    ),
    malformed(
      'multipart-unknown-fields',
      fc
        .array(
          fc.tuple(
            fc.string({ minLength: 1, maxLength: 10 }).map((k) => `zz_${k.replace(/["\r\n]/g, '')}`),
            fc.string({ maxLength: 30 }).map((v) => v.replace(/\r|\n/g, '')),
          ),
          { maxLength: 4 },
        )
        .map((fs) => ({ raw: multipart(fs, 'XyZboundary'), contentType: 'multipart/form-data; boundary=XyZboundary', multipart: true })),
    ),
  ];
  const wrong = wrongObject(schema);
  if (wrong)
    arbs.push(
      malformed(
        'wrong-types',
        wrong.map((o) => json(JSON.stringify(o))),
      ),
    );
  if (r.body && requiresAnId(r.body)) {
    const unknown = unknownIdObject(r.body);
    if (unknown)
      arbs.push(
        fc
          .record({ query: q, body: unknown.map((o) => json(JSON.stringify(o))) })
          .map(({ query, body }) => ({ kind: 'unknown-ids', query, body, mustFail: true })),
      );
  }
  return arbs;
}

function invalidParamValue(s: JsonSchema): fc.Arbitrary<string> {
  const types = schemaTypes(s);
  const options: fc.Arbitrary<string>[] = [];
  if (types.has('number')) {
    options.push(fc.constantFrom('abc', '1.5', '1e400', 'NaN', 'Infinity', '--1', '١'));
    if (typeof s.minimum === 'number') options.push(fc.integer({ min: -1_000_000_000, max: s.minimum - 1 }).map(String));
    if (typeof s.maximum === 'number')
      options.push(
        fc.oneof(fc.integer({ min: s.maximum + 1, max: Number.MAX_SAFE_INTEGER }).map(String), fc.constant('99999999999999999999999999')),
      );
  } else if (types.has('boolean')) {
    options.push(fc.string({ maxLength: 8 }).filter((v) => !['true', 'false', '0', '1', ''].includes(v)));
  } else if (types.has('string')) {
    if (Array.isArray(s.enum)) options.push(fc.oneof(fc.string({ maxLength: 12 }), nastyString).filter((v) => !s.enum.includes(v)));
    if (typeof s.maxLength === 'number')
      options.push(fc.integer({ min: s.maxLength + 1, max: s.maxLength + 5_000 }).map((n) => 'q'.repeat(n)));
    if (typeof s.minLength === 'number' && s.minLength > 0) options.push(fc.constant(''));
    if (s.format === 'date-time') options.push(fc.constantFrom('yesterday', '2024-13-45T99:99:99Z', 'x'));
  }
  return options.length > 0 ? fc.oneof(...options) : fc.constant('');
}

function queryRequests(r: RouteInfo): fc.Arbitrary<GenRequest>[] {
  const arbs: fc.Arbitrary<GenRequest>[] = [
    randomPairs.map((pairs) => ({ kind: 'random-query', query: encodePairs(pairs), mustFail: false })),
    garbageQuery.map((query) => ({ kind: 'garbage-query', query, mustFail: false })),
  ];
  if (r.params.length > 0) {
    const known = fc.constantFrom(...r.params.map((p) => p.name));
    arbs.push(
      fc
        .tuple(known, fc.array(fc.oneof(fc.string({ maxLength: 10 }), nastyString), { maxLength: 4 }))
        .map(([k, vs]) => ({ kind: 'known-keys-random-values', query: vs.map((v) => `${k}=${enc(v)}`).join('&'), mustFail: false })),
    );
    const invalid = r.params.filter((p) => invalidParamValue(p.schema) !== null);
    arbs.push(
      fc.tuple(fc.constantFrom(...invalid), garbageQuery).chain(([p, garbage]) =>
        invalidParamValue(p.schema).map((v) => ({
          kind: `invalid-${p.name}`,
          query: joinQuery(`${p.name}=${enc(v)}`, garbage.replace(/^[^&]*/, '')),
          mustFail: true,
        })),
      ),
      // Repeated keys: the query parser makes an array, which no parameter accepts.
      fc
        .tuple(fc.constantFrom(...r.params.map((p) => p.name)), fc.array(fc.string({ maxLength: 6 }), { minLength: 2, maxLength: 4 }))
        .map(([k, vs]) => ({ kind: 'repeated-key', query: vs.map((v) => `${k}=${enc(v)}`).join('&'), mustFail: true })),
    );
  }
  const required = r.params.filter((p) => p.required);
  if (required.length > 0) {
    arbs.push(
      randomPairs.map((pairs) => ({ kind: 'missing-required', query: encodePairs(pairs.map(([k, v]) => [`x_${k}`, v])), mustFail: true })),
    );
    // Every required parameter present and type-correct, but naming nothing that exists.
    if (required.some((p) => ID_LIKE.test(p.name))) {
      arbs.push(
        fc
          .tuple(...required.map((p) => (unknownIdValue(p.name, p.schema) ?? fc.constant('x')).map((v) => `${p.name}=${enc(String(v))}`)))
          .map((parts) => ({ kind: 'unknown-ids', query: parts.join('&'), mustFail: true })),
      );
    }
  }
  return arbs;
}

/** A path segment value naming nothing that exists: random, nasty, too long, or a well-formed id nobody has. */
const unknownPathValue = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 30 }),
    nastyString,
    fc.constantFrom('par_00000000', 'key_x', 'po_nobody', 'pb_0', 'dep_0', 'cus_0', '%', 'null', '.x', 'x..'),
    fc.integer({ min: 65, max: 2000 }).map((n) => 'i'.repeat(n)),
  )
  // '.' and '..' (even percent-encoded) are dot segments every URL parser removes: another route, not a value.
  .filter((v) => v.length > 0 && v !== '.' && v !== '..');
const encPath = enc;

/** Gives each generated request path values; a request on a path naming nothing that exists must fail. */
function withPathValues(r: RouteInfo, arb: fc.Arbitrary<GenRequest>): fc.Arbitrary<GenRequest> {
  if (r.pathParams.length === 0) return arb;
  const values = fc.record(Object.fromEntries(r.pathParams.map((name) => [name, unknownPathValue])));
  return fc.tuple(arb, values).map(([g, path]) => ({ ...g, path, mustFail: true }));
}

/** Fastify's maxParamLength (counted on the decoded value), which the app leaves at its default. */
const PATH_PARAM_MAX = 100;
const pathTooLong = (g: GenRequest) =>
  Object.values(g.path ?? {}).some((v) => Buffer.from(v, 'utf8').toString('utf8').length > PATH_PARAM_MAX);

function urlOf(r: RouteInfo, g: GenRequest): string {
  const path = r.path.replace(/\{(\w+)\}/g, (_, name: string) => encPath(g.path?.[name] ?? 'x'));
  return g.query === '' ? path : `${path}?${g.query}`;
}

/** fc.assert, with a report that keeps the failing request readable (bodies can be 300 kB) and shows the assertion. */
async function assertProperty<T>(property: fc.IAsyncProperty<T>): Promise<void> {
  const out = await fc.check(property, { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) });
  if (!out.failed) return;
  const example = JSON.stringify(out.counterexample);
  const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
  throw new Error(
    `property failed after ${out.numRuns} run(s), shrunk ${out.numShrinks} time(s); reproduce with OPENRAMP_FUZZ_SEED=${out.seed} (path ${out.counterexamplePath})\n` +
      `counterexample (${example.length} chars): ${example.slice(0, 1500)}${example.length > 1500 ? '…' : ''}\n\n${cause}`,
  );
}

// ---------------------------------------------------------------------------------------------

describe('fuzz: malformed requests on every partner route (docs/quality-bars.md)', () => {
  let ctx: TestContext;
  let routes: RouteInfo[];
  const stats = new Map<string, { signed: number; signed401: number; kinds: Map<string, number> }>();

  async function snapshot(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const t of TABLES) {
      const r = await sql<{
        n: string;
        h: string | null;
      }>`select count(*)::text as n, md5(string_agg(x::text, '|' order by x::text)) as h from ${sql.table(t)} x`.execute(
        ctx.openramp.services.db,
      );
      out[t] = `${r.rows[0]!.n} rows, md5 ${r.rows[0]!.h ?? '-'}`;
    }
    return out;
  }

  async function send(r: RouteInfo, g: GenRequest, mode: 'signed' | Unsigned) {
    const url = urlOf(r, g);
    const payload = g.body?.raw ?? '';
    let headers: Record<string, string>;
    if (mode === 'no-headers') headers = {};
    else if (r.isOperator) {
      // The operator API's counterparts of the partner modes: garbage, a token one character off,
      // and a correctly signed partner request (a partner's credentials never open /ops).
      if (mode === 'garbage-headers') headers = { authorization: `Bearer ${randomUUID()}` };
      else if (mode === 'bad-signature')
        headers = { authorization: `Bearer ${ctx.operatorToken.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))}` };
      else if (mode === 'stale-timestamp') headers = signedHeaders({ method: r.method, url, rawBody: payload }, ctx.partner);
      else headers = { authorization: `Bearer ${ctx.operatorToken}` };
    } else if (mode === 'garbage-headers')
      headers = { 'x-api-key': `ork_test_${randomUUID()}`, 'x-timestamp': 'soon', 'x-nonce': '\u00ff', 'x-signature': 'zz' };
    else {
      headers = signedHeaders(
        {
          method: r.method,
          url,
          rawBody: payload,
          ...(mode === 'stale-timestamp' ? { timestamp: String(Math.floor(Date.now() / 1000) - 3600) } : {}),
          ...(g.body?.multipart && /^multipart\/form-data/i.test(g.body.contentType ?? '') ? { sign: { bodySha256Hex: '' } } : {}),
        },
        ctx.partner,
      );
      if (mode === 'bad-signature') headers['x-signature'] = headers['x-signature']!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    }
    delete headers['content-type'];
    if (g.body && g.body.contentType !== null) headers['content-type'] = g.body.contentType;
    const res = await ctx.openramp.api.inject({ method: r.method, url, headers, ...(payload !== '' ? { payload } : {}) });
    let body: any = null;
    try {
      body = res.json();
    } catch {
      body = null;
    }
    return { status: res.statusCode, body, text: res.body, contentType: String(res.headers['content-type'] ?? '') };
  }

  function describeRequest(r: RouteInfo, g: GenRequest, mode: string) {
    const raw = g.body?.raw ?? '';
    return `${mode} ${r.method} ${urlOf(r, g).slice(0, 300)} [${g.kind}] content-type=${g.body?.contentType ?? '-'} body(${raw.length})=${JSON.stringify(raw.slice(0, 300))}`;
  }

  function assertErrorEnvelope(res: { status: number; body: any; text: string; contentType: string }, what: string) {
    assert.match(res.contentType, /application\/json/, `${what}: error is not JSON (${res.contentType}): ${res.text.slice(0, 300)}`);
    assert.ok(res.body && typeof res.body === 'object', `${what}: no JSON body: ${res.text.slice(0, 300)}`);
    assert.deepEqual(
      Object.keys(res.body).sort(),
      ['message', 'status'],
      `${what}: error must be exactly {status, message}: ${res.text.slice(0, 300)}`,
    );
    assert.ok(['INVALID_PARAMETERS', 'UNAUTHORISED', 'FAILED'].includes(res.body.status), `${what}: bad status ${res.body.status}`);
    assert.equal(typeof res.body.message, 'string');
    assert.ok(res.body.message.length > 0, `${what}: empty message`);
  }

  before(async () => {
    // Business time is the test's (the pipeline moves it); signatures use the real clock.
    ctx = await createTestContext({
      clock: createAdjustableClock({ now: () => new Date('2026-06-03T09:00:00Z') }),
      authClock: systemClock,
      env: { OPENRAMP_RATE_LIMIT_PER_MINUTE: '1000000', OPENRAMP_BODY_LIMIT_BYTES: String(BODY_LIMIT) },
    });
    // Real data on every table of the money path — a customer, account, flow, deposit, trade,
    // payout, batch and events — so lookups and lists have rows to (not) find and the no-write
    // snapshot below has something to protect.
    await ctx.openramp.services.payouts.fundTreasury('EUR', 100_000_000n);
    const c = await offrampCustomer(ctx, { name: 'Fuzz Target' });
    await depositAndConfirm(ctx, { to: c.depositAddress, amount: '250.00' });
    await runPipeline(ctx, 3, { deliverWebhooks: true });

    await ctx.openramp.api.ready();
    const doc = ctx.openramp.api.swagger() as { paths: Record<string, Record<string, any>> };
    const ajv = addFormats.default(new Ajv.default({ strict: false, allErrors: false }));
    routes = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (path.startsWith('/docs')) continue;
      for (const [m, op] of Object.entries(ops)) {
        const method = m.toUpperCase();
        if (method !== 'GET' && method !== 'POST') continue;
        const body = op.requestBody?.content?.['application/json']?.schema ?? null;
        routes.push({
          key: `${method} ${path}`,
          method,
          path,
          isPublic: PUBLIC_ROUTES.has(`${method} ${path}`),
          isOperator: path.startsWith('/ops/'),
          pathParams: (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name as string),
          body,
          validateBody: body ? ajv.compile(body) : null,
          params: (op.parameters ?? [])
            .filter((p: any) => p.in === 'query')
            .map((p: any) => ({ name: p.name, required: p.required === true, schema: p.schema ?? {} })),
        });
      }
    }
  });
  after(async () => {
    if (process.env.OPENRAMP_FUZZ_STATS) for (const [k, s] of stats) console.log(k, s.signed, s.signed401, Object.fromEntries(s.kinds));
    await ctx?.close();
  });

  it('fuzzes exactly the routes of the OpenAPI document', () => {
    const keys = new Set(routes.map((r) => r.key));
    assert.deepEqual(
      EXPECTED_ROUTES.filter((k) => !keys.has(k)),
      [],
      'listed here but not in the document',
    );
    const listed = new Set(EXPECTED_ROUTES);
    assert.deepEqual(
      [...keys].filter((k) => !listed.has(k)),
      [],
      'in the document but not fuzzed: add it to EXPECTED_ROUTES',
    );
    for (const r of routes) for (const p of r.pathParams) assert.ok(r.path.includes(`{${p}}`), `${r.key}: path parameter ${p}`);
  });

  it('the no-write snapshot covers the money tables, and they hold rows to protect', async () => {
    const snap = await snapshot();
    for (const t of ['deposits', 'trades', 'payouts', 'payout_batches', 'ledger_journals', 'ledger_entries', 'events', 'jobs'] as const) {
      assert.ok(t in snap, `${t} is not in the snapshot`);
      assert.doesNotMatch(snap[t]!, /^0 rows/, `${t} is empty after the setup pipeline`);
    }
    // Required fields at the top, or in every branch of an anyOf ("eventId, or from and to").
    const requiresFields = (s: JsonSchema): boolean =>
      (s.required ?? []).length > 0 || (Array.isArray(s.anyOf) && s.anyOf.length > 0 && s.anyOf.every(requiresFields));
    // (A path naming nothing that exists makes any body invalid.)
    for (const r of routes.filter((x) => x.method === 'POST' && x.pathParams.length === 0))
      assert.ok(
        r.body && requiresFields(r.body),
        `${r.key}: a POST without required body fields cannot be fuzzed "invalid by construction"`,
      );
  });

  it('a body over the size limit is refused with 413, signed or not, and writes nothing', async () => {
    const before = await snapshot();
    const big: GenRequest = {
      kind: 'oversized',
      query: '',
      body: json(JSON.stringify({ name: 'x'.repeat(BODY_LIMIT + 10) })),
      mustFail: true,
    };
    const r = routes.find((x) => x.key === 'POST /customer/create')!;
    for (const mode of ['signed', 'no-headers'] as const) {
      const res = await send(r, big, mode);
      assert.equal(res.status, 413, res.text);
      assertErrorEnvelope(res, 'oversized');
      assert.equal(res.body.status, 'INVALID_PARAMETERS');
    }
    assert.deepEqual(await snapshot(), before);
  });

  it('regressions found by this fuzzer: each is refused with a 4xx, never a 500', async () => {
    const route = (key: string) => routes.find((x) => x.key === key)!;
    const cases: [string, GenRequest, number, RegExp][] = [
      [
        'GET /bank-account/detail',
        { kind: 'NUL in a query id', query: 'id=%00', mustFail: true },
        422,
        /^id: must not contain the NUL character/,
      ],
      [
        'POST /callback-url',
        {
          kind: 'NUL in a body string',
          query: '',
          body: json(JSON.stringify({ callbackUrl: 'http://example.com/a\u0000b' })),
          mustFail: true,
        },
        422,
        /^callbackUrl: must not contain the NUL character/,
      ],
      [
        'POST /autoramp-flow/offramp',
        {
          kind: 'NUL in a nested id',
          query: '',
          body: json(JSON.stringify({ from: { customerId: 'cus_\u0000', currency: 'USDT', network: 'ETH' }, to: 'ba_x' })),
          mustFail: true,
        },
        422,
        /^from\.customerId: must not contain the NUL character/,
      ],
      [
        'POST /subscribed-events',
        {
          kind: 'too deep to re-serialise for the signature check',
          query: '',
          body: json(deepJson('events', 150_000, 'array')),
          mustFail: true,
        },
        422,
        /^events/,
      ],
      [
        // Multipart only where the contract uses it (elsewhere 415, below).
        'POST /bank-account/add',
        {
          kind: 'multipart without a boundary',
          query: '',
          body: { raw: '--XyZ', contentType: 'multipart/form-data', multipart: true },
          mustFail: true,
        },
        422,
        /^body: malformed multipart\/form-data/,
      ],
      [
        'POST /bank-account/add',
        {
          kind: 'multipart cut short',
          query: '',
          body: {
            raw: '--XyZ\r\nContent-Disposition: form-data; name="callbackUrl"\r\n\r\nhttp',
            contentType: 'multipart/form-data; boundary=XyZ',
            multipart: true,
          },
          mustFail: true,
        },
        422,
        /^body: malformed multipart\/form-data/,
      ],
      [
        'POST /customer/create',
        { kind: 'unparseable Content-Type', query: '', body: { raw: '{}', contentType: 'foo' }, mustFail: true },
        422,
        /^body: unsupported Content-Type "foo"/,
      ],
    ];
    const before = await snapshot();
    for (const [key, g, status, message] of cases) {
      const r = route(key);
      const s = await send(r, g, 'signed');
      assert.equal(s.status, status, `${g.kind}: ${s.text.slice(0, 300)}`);
      assertErrorEnvelope(s, g.kind);
      assert.match(s.body.message, message, g.kind);
      const u = await send(r, g, 'no-headers');
      assert.equal(u.status, 401, `${g.kind} (unsigned): ${u.text.slice(0, 300)}`);
    }
    assert.deepEqual(await snapshot(), before);
  });

  // One property per route, so a failure names its route and the run stays readable.
  for (const key of EXPECTED_ROUTES) {
    it(`${key}: no 5xx, no write, contract error envelope`, async () => {
      const r = routes.find((x) => x.key === key);
      assert.ok(r, `${key} is not registered`);
      const arbs = [...(r.method === 'POST' ? bodyRequests(r) : []), ...(r.method === 'GET' ? queryRequests(r) : [])].map((a) =>
        withPathValues(r, a),
      );
      const unsignedMode = fc.constantFrom<Unsigned>('no-headers', 'garbage-headers', 'bad-signature', 'stale-timestamp');
      const st = { signed: 0, signed401: 0, kinds: new Map<string, number>() };
      stats.set(key, st);
      const before = await snapshot();
      await assertProperty(
        fc.asyncProperty(fc.oneof(...arbs), unsignedMode, async (g, mode) => {
          st.kinds.set(g.kind, (st.kinds.get(g.kind) ?? 0) + 1);
          const oversized = Buffer.byteLength(g.body?.raw ?? '') > BODY_LIMIT;
          // The router refuses an over-long path parameter (414) before authentication, as it
          // refuses an oversized body (413).

          const u = await send(r, g, mode);
          const uWhat = describeRequest(r, g, mode);
          assert.ok(u.status < 500, `${uWhat} → ${u.status}: ${u.text.slice(0, 500)}`);
          if (r.isPublic) {
            if (u.status !== 200) assertErrorEnvelope(u, uWhat);
          } else {
            // A valid key and timestamp with multipart on a JSON-only route is refused from the
            // headers (415) before the body, and so the signature, is ever read.
            // (The operator API checks its token first.)
            const headerRefusal =
              mode === 'bad-signature' && g.body?.multipart && !r.isOperator && r.key !== 'POST /bank-account/add' ? 415 : 401;
            assert.equal(
              u.status,
              pathTooLong(g) ? 414 : oversized ? 413 : headerRefusal,
              `${uWhat}: unsigned must be refused before anything else: ${u.text.slice(0, 300)}`,
            );
            assertErrorEnvelope(u, uWhat);
          }

          const s = await send(r, g, 'signed');
          const sWhat = describeRequest(r, g, 'signed');
          st.signed++;
          if (s.status === 401) {
            st.signed401++;
            if (process.env.OPENRAMP_FUZZ_STATS) console.log('signed 401:', sWhat.slice(0, 200), s.body?.message);
          }
          assert.ok(s.status < 500, `${sWhat} → ${s.status}: ${s.text.slice(0, 500)}`);
          if (s.status === 200) {
            assert.ok(
              r.method === 'GET' && !g.mustFail,
              `${sWhat}: accepted a request that is invalid by construction: ${s.text.slice(0, 300)}`,
            );
            assert.equal(s.body?.status, 'SUCCESS', `${sWhat}: ${s.text.slice(0, 300)}`);
          } else {
            // 415: multipart sent to a route whose contract does not take it.
            const allowed = [401, 413, 422];
            if (g.body?.multipart && r.key !== 'POST /bank-account/add') allowed.push(415);
            if (pathTooLong(g)) allowed.push(414);
            assert.ok(allowed.includes(s.status), `${sWhat}: unexpected status ${s.status}: ${s.text.slice(0, 300)}`);
            assertErrorEnvelope(s, sWhat);
          }
        }),
      );
      assert.deepEqual(await snapshot(), before, `${key}: a rejected request wrote to the database`);
      // The signed half must get past authentication, or the fuzzing never reaches validation.
      assert.equal(
        st.signed401,
        0,
        `${key}: ${st.signed401}/${st.signed} correctly signed requests were refused by auth (run with OPENRAMP_FUZZ_STATS=1 to list them)`,
      );
    });
  }
});
