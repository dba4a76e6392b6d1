import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Request signing of the Coinut Partner Ramp API (docs/request-signing.md): HMAC-SHA256 (lowercase hex) keyed
 * with the API secret over seven LF-joined lines METHOD, HOST, PATH, QUERY, BODY_SHA256_HEX,
 * TIMESTAMP, NONCE. Pure functions; the Fastify hook in api/auth.ts feeds them.
 */
export interface CanonicalParts {
  method: string;
  host: string;
  path: string;
  query: string;
  bodySha256Hex: string;
  timestamp: string;
  nonce: string;
}

export function canonicalString(p: CanonicalParts): string {
  return [p.method.toUpperCase(), p.host, p.path, p.query, p.bodySha256Hex, p.timestamp, p.nonce].join('\n');
}

export function hmacHex(secret: string, data: string): string {
  return createHmac('sha256', secret).update(data, 'utf8').digest('hex');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function signRequest(secret: string, p: CanonicalParts): string {
  return hmacHex(secret, canonicalString(p));
}

/**
 * Python's `json.dumps` escapes every character outside printable ASCII as `\uXXXX`
 * (ensure_ascii=True, the default), including DEL and each UTF-16 half of astral characters.
 * JSON.stringify already escapes control characters the same way, so only this range differs.
 */
export function escapeNonAsciiLikePython(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Every body hash a legitimate client may have signed: the raw bytes, the compact
 * re-serialisation of the parsed JSON, and that re-serialisation with Python's ASCII escaping
 * (what the guide's Python sample signs while `requests` sends JSON with spaces). Each still
 * binds the body content. Empty body and GET sign the empty string; multipart bodies are
 * hashed while they stream (`multipartBodyHashes`).
 */
export function bodyHashCandidates(input: { method: string; rawBody: Buffer | null; parsedJson: unknown }): string[] {
  if (input.method.toUpperCase() === 'GET' || !input.rawBody || input.rawBody.length === 0) return [''];
  const out = new Set<string>([sha256Hex(input.rawBody)]);
  if (input.parsedJson !== undefined) {
    let compact: string | undefined;
    try {
      compact = JSON.stringify(input.parsedJson);
    } catch {
      // Nested too deeply to re-serialise (RangeError): only the raw bytes can have been signed.
    }
    if (compact !== undefined) {
      out.add(sha256Hex(compact));
      out.add(sha256Hex(escapeNonAsciiLikePython(compact)));
    }
  }
  return [...out];
}

/**
 * Multipart: the SHA-256 of the raw body bytes binds every field and file. The empty hash the
 * contract's examples sign for uploads binds nothing, so a captured request's form could be
 * swapped under it; it is accepted only from partners not in strict signing mode
 * (docs/request-signing.md, "Multipart bodies").
 */
export function multipartBodyHashes(rawSha256Hex: string, strict: boolean): string[] {
  return strict ? [rawSha256Hex] : ['', rawSha256Hex];
}

export interface VerifyInput {
  secret: string;
  signature: string;
  method: string;
  hosts: string[];
  path: string;
  query: string;
  bodyHashes: string[];
  timestamp: string;
  nonce: string;
}

/**
 * True when the signature matches any accepted canonical form (docs/request-signing.md): host as received or a
 * configured public host; (path, query) or (path?query, ""); any body-hash candidate. All
 * candidates are computed and compared in constant time so timing reveals nothing.
 */
export function verifySignature(v: VerifyInput): boolean {
  // Lowercase hex only, as specified: one spelling per signature, so a signature cannot be
  // re-spelled into a "different" request that caches or logs tell apart.
  if (!/^[0-9a-f]{64}$/.test(v.signature)) return false;
  const given = Buffer.from(v.signature, 'hex');
  const pathForms: [string, string][] = [[v.path, v.query]];
  if (v.query !== '') pathForms.push([`${v.path}?${v.query}`, '']);
  let ok = false;
  for (const host of new Set(v.hosts)) {
    for (const [path, query] of pathForms) {
      for (const bodySha256Hex of v.bodyHashes) {
        const expected = Buffer.from(
          signRequest(v.secret, { method: v.method, host, path, query, bodySha256Hex, timestamp: v.timestamp, nonce: v.nonce }),
          'hex',
        );
        // Non-short-circuiting OR: every form is always computed.
        ok = timingSafeEqual(expected, given) || ok;
      }
    }
  }
  return ok;
}
