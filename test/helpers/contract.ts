import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { REFERENCE, referencePath } from './reference.ts';

/**
 * The wire contract (docs/api-contract.md): `coinut-openapi.json` in the reference folder (test/helpers/reference.ts), read at test time
 * and compiled with ajv. OpenAPI 3.0 `nullable` is rewritten to JSON Schema, and the one agreed
 * normalisation is applied: a bare `{"type":"object"}` (no structure of its own) is the
 * contract's way of writing "string or null", so it accepts any value.
 */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CONTRACT_PATH = referencePath(REFERENCE.contract);
const CONTRACT_ID = 'coinut-openapi.json';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = { [k: string]: Json };

const STRUCTURE = [
  'properties',
  'additionalProperties',
  'patternProperties',
  'required',
  'items',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'enum',
  '$ref',
  'minProperties',
  'maxProperties',
];

function isObj(v: Json | undefined): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Schema-aware copy: only schema positions are rewritten, so a property named "nullable" is safe. */
export function normaliseSchema(s: Json): Json {
  if (!isObj(s)) return s;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if ((k === 'properties' || k === 'patternProperties') && isObj(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, normaliseSchema(sub)]));
    } else if ((k === 'allOf' || k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) {
      out[k] = v.map(normaliseSchema);
    } else if (k === 'items') {
      out[k] = Array.isArray(v) ? v.map(normaliseSchema) : normaliseSchema(v);
    } else if (k === 'additionalProperties' || k === 'not') {
      out[k] = normaliseSchema(v);
    } else {
      out[k] = v;
    }
  }
  // docs/api-contract.md: bare {"type":"object"} means "string or null": any value.
  if (out.type === 'object' && !STRUCTURE.some((k) => k in out)) {
    delete out.type;
    delete out.nullable;
    return out;
  }
  if ('nullable' in out) {
    const nullable = out.nullable === true;
    delete out.nullable;
    if (nullable) {
      if (typeof out.type === 'string') {
        out.type = [out.type, 'null'];
        if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      } else if (out.type === undefined) {
        // e.g. {nullable: true, allOf: [{$ref}]}: null, or the schema without `nullable`.
        const { description, ...rest } = out;
        return { ...(description !== undefined ? { description } : {}), anyOf: [{ type: 'null' }, rest] };
      }
    }
  }
  return out;
}

function normaliseDocument(doc: Schema): Schema {
  const components = isObj(doc.components) ? doc.components : {};
  const schemas = isObj(components.schemas) ? components.schemas : {};
  const paths: Schema = {};
  for (const [route, ops] of Object.entries(isObj(doc.paths) ? doc.paths : {})) {
    if (!isObj(ops)) continue;
    const outOps: Schema = {};
    for (const [method, op] of Object.entries(ops)) {
      if (!isObj(op) || !isObj(op.responses)) continue;
      const responses: Schema = {};
      for (const [code, resp] of Object.entries(op.responses)) {
        if (!isObj(resp)) continue;
        const content: Schema = {};
        for (const [mediaType, media] of Object.entries(isObj(resp.content) ? resp.content : {})) {
          if (isObj(media) && media.schema !== undefined) content[mediaType] = { schema: normaliseSchema(media.schema) };
        }
        responses[code] = { content };
      }
      outOps[method] = { responses };
    }
    paths[route] = outOps;
  }
  return {
    $id: CONTRACT_ID,
    components: { schemas: Object.fromEntries(Object.entries(schemas).map(([name, s]) => [name, normaliseSchema(s)])) },
    paths,
  };
}

const pointerToken = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

export interface ContractCheck {
  ok: boolean;
  /** Which contract schema was used (for messages). */
  schema: string;
  errors: ErrorObject[];
}

export interface Contract {
  /** The raw contract document (for route lookups). */
  doc: Schema;
  hasOperation(method: string, route: string): boolean;
  /** The 200 application/json schema exists for this operation. */
  hasSuccessSchema(method: string, route: string): boolean;
  /** Validates a response body: the operation's schema for its HTTP status, else ErrorResponseDto for errors. */
  check(method: string, route: string, httpStatus: number, body: unknown): ContractCheck;
  /** Throws an AssertionError-like Error with the ajv errors and the offending body. */
  assertConforms(method: string, route: string, httpStatus: number, body: unknown): void;
  validateComponent(name: string, value: unknown): ContractCheck;
}

export function loadContract(file = CONTRACT_PATH): Contract {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Schema;
  const normalised = normaliseDocument(doc);
  const ajv = addFormats.default(new Ajv.default({ strict: false, allErrors: true, validateSchema: false }));
  ajv.addSchema(normalised);
  const cache = new Map<string, ValidateFunction>();
  const compile = (pointer: string): ValidateFunction => {
    let v = cache.get(pointer);
    if (!v) {
      v = ajv.compile({ $ref: `${CONTRACT_ID}#${pointer}` });
      cache.set(pointer, v);
    }
    return v;
  };
  const op = (method: string, route: string): Schema | null => {
    const ops = (normalised.paths as Schema)[route];
    const o = isObj(ops) ? ops[method.toLowerCase()] : undefined;
    return isObj(o) ? o : null;
  };
  const jsonSchemaPointer = (method: string, route: string, code: string): string | null => {
    const o = op(method, route);
    const resp = o && isObj(o.responses) ? o.responses[code] : undefined;
    const content = isObj(resp) && isObj(resp.content) ? resp.content['application/json'] : undefined;
    if (!isObj(content) || content.schema === undefined) return null;
    return `/paths/${pointerToken(route)}/${method.toLowerCase()}/responses/${code}/content/application~1json/schema`;
  };
  const run = (pointer: string, label: string, body: unknown): ContractCheck => {
    const v = compile(pointer);
    const ok = v(body) as boolean;
    return { ok, schema: label, errors: ok ? [] : [...(v.errors ?? [])] };
  };
  const contract: Contract = {
    doc,
    hasOperation: (method, route) => op(method, route) !== null,
    hasSuccessSchema: (method, route) => jsonSchemaPointer(method, route, '200') !== null,
    check(method, route, httpStatus, body) {
      const code = String(httpStatus);
      const pointer = jsonSchemaPointer(method, route, code);
      if (pointer) return run(pointer, `${method.toUpperCase()} ${route} responses.${code}`, body);
      if (httpStatus >= 400) return run('/components/schemas/ErrorResponseDto', 'ErrorResponseDto', body);
      throw new Error(`contract has no application/json schema for ${method.toUpperCase()} ${route} ${code}`);
    },
    assertConforms(method, route, httpStatus, body) {
      const r = contract.check(method, route, httpStatus, body);
      if (!r.ok) throw new Error(formatFailure(`${method.toUpperCase()} ${route} → ${httpStatus}`, r, body));
    },
    validateComponent(name, value) {
      return run(`/components/schemas/${pointerToken(name)}`, name, value);
    },
  };
  return contract;
}

export function formatFailure(what: string, r: ContractCheck, body: unknown): string {
  const errs = r.errors
    .map((e) => `  - ${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)} [schema ${e.schemaPath}]`)
    .join('\n');
  return `${what}: response does not validate against ${r.schema}\najv errors:\n${errs}\nbody:\n${JSON.stringify(body, null, 2)}`;
}
