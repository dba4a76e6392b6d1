/**
 * Watch-only deposit-address derivation and address validation/normalisation
 * for the chain families OpenRamp supports.
 *
 * Deposit addresses are derived from a BIP32 *account* extended public key
 * (e.g. m/44'/60'/0' for EVM, m/44'/195'/0' for TRON) along the external chain:
 * `<account>/0/<index>` (non-hardened). No private key material is ever
 * accepted or handled here.
 */
import { HDKey } from '@scure/bip32';
import { createBase58check } from '@scure/base';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

export type NetworkFamily = 'EVM' | 'TRON';

const base58check = createBase58check(sha256);

/** TRON mainnet address version byte. */
const TRON_PREFIX = 0x41;

/** BIP32 version bytes (mainnet/testnet, public/private). */
const XPUB_VERSION = 0x0488b21e;
const XPRV_VERSION = 0x0488ade4;
const TPUB_VERSION = 0x043587cf;
const TPRV_VERSION = 0x04358394;
/** SLIP-132 private versions (yprv, zprv, Yprv, Zprv, uprv, vprv, Uprv, Vprv). */
const SLIP132_PRIVATE_VERSIONS = new Set([0x049d7878, 0x04b2430c, 0x0295b005, 0x02aa7a99, 0x044a4e28, 0x045f18bc, 0x024285b5, 0x02575048]);

const HARDENED_OFFSET = 0x80000000;

const PRIVATE_KEY_REFUSED =
  'private extended keys are never accepted: private keys are never accepted by OpenRamp, supply the account xpub instead';

/**
 * Parse and validate an account extended public key ("xpub..."). Throws a
 * descriptive Error for anything that is not a valid mainnet BIP32 public
 * extended key. Private extended keys (xprv/tprv/...) are refused outright and
 * never echoed back in the error.
 */
export function parseAccountXpub(xpub: string): HDKey {
  if (typeof xpub !== 'string') {
    throw new Error('invalid account xpub: expected a string');
  }
  const s = xpub.trim();
  if (s.length === 0) {
    throw new Error('invalid account xpub: empty string');
  }
  // Refuse obvious private-key prefixes before anything else (even if the
  // checksum is broken), so no private key flows further.
  if (/^[xtyzuvYZUV]prv/.test(s)) {
    throw new Error(PRIVATE_KEY_REFUSED);
  }
  let raw: Uint8Array;
  try {
    raw = base58check.decode(s);
  } catch {
    throw new Error('invalid account xpub: not a valid base58check string (bad characters or checksum)');
  }
  if (raw.length !== 78) {
    throw new Error(`invalid account xpub: expected 78 decoded bytes, got ${raw.length}`);
  }
  const version = ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0;
  const keyByte = raw[45];
  if (version === XPRV_VERSION || version === TPRV_VERSION || SLIP132_PRIVATE_VERSIONS.has(version) || keyByte === 0x00) {
    throw new Error(PRIVATE_KEY_REFUSED);
  }
  if (version === TPUB_VERSION) {
    throw new Error('invalid account xpub: testnet "tpub" keys are not supported, supply a mainnet "xpub"');
  }
  if (version !== XPUB_VERSION) {
    throw new Error(`invalid account xpub: unsupported version bytes 0x${version.toString(16).padStart(8, '0')} (expected an "xpub...")`);
  }
  if (keyByte !== 0x02 && keyByte !== 0x03) {
    throw new Error('invalid account xpub: public key must be a compressed secp256k1 point');
  }
  let key: HDKey;
  try {
    key = HDKey.fromExtendedKey(s);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`invalid account xpub: ${msg}`);
  }
  if (key.privateKey) {
    // Defensive: cannot happen given the checks above.
    throw new Error(PRIVATE_KEY_REFUSED);
  }
  if (!key.publicKey) {
    throw new Error('invalid account xpub: no public key');
  }
  return key;
}

// ---------------------------------------------------------------------------
// Derivation cache: parsed account key + external-chain (/0) child per xpub.
// ---------------------------------------------------------------------------

const CACHE_MAX = 256;
const externalChainCache = new Map<string, HDKey>();

function externalChainOf(accountXpub: string): HDKey {
  const hit = externalChainCache.get(accountXpub);
  if (hit) {
    // Refresh recency (Map preserves insertion order → simple LRU).
    externalChainCache.delete(accountXpub);
    externalChainCache.set(accountXpub, hit);
    return hit;
  }
  const account = parseAccountXpub(accountXpub);
  const external = account.deriveChild(0);
  if (externalChainCache.size >= CACHE_MAX) {
    const oldest = externalChainCache.keys().next();
    if (!oldest.done) externalChainCache.delete(oldest.value);
  }
  externalChainCache.set(accountXpub, external);
  return external;
}

/** 20-byte Ethereum-style account id of a compressed secp256k1 public key. */
function pubkeyToAccountId(compressed: Uint8Array): Uint8Array {
  const uncompressed = secp256k1.Point.fromBytes(compressed).toBytes(false);
  return keccak_256(uncompressed.subarray(1)).subarray(12);
}

/**
 * Derive the deposit address at `<account>/0/<index>` from an account xpub.
 * EVM → EIP-55 checksummed `0x...`; TRON → base58check `T...`.
 */
export function deriveAddress(accountXpub: string, family: NetworkFamily, index: number): string {
  if (!Number.isSafeInteger(index) || index < 0 || index >= HARDENED_OFFSET) {
    throw new Error(`invalid derivation index ${String(index)}: must be an integer in [0, 2^31)`);
  }
  if (family !== 'EVM' && family !== 'TRON') {
    throw new Error(`unsupported network family: ${String(family)}`);
  }
  const child = externalChainOf(accountXpub).deriveChild(index);
  const pub = child.publicKey;
  if (!pub) throw new Error('derivation produced no public key');
  const id = pubkeyToAccountId(pub);
  return family === 'EVM' ? toChecksumAddress(bytesToHex(id)) : tronFromAccountId(id);
}

// ---------------------------------------------------------------------------
// EVM
// ---------------------------------------------------------------------------

const HEX40 = /^[0-9a-fA-F]{40}$/;

/** EIP-55 checksum encoding. Accepts 40 hex chars with or without `0x`, any case. */
export function toChecksumAddress(hex: string): string {
  const body = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (!HEX40.test(body)) {
    throw new Error('invalid EVM address: expected 20 bytes of hex');
  }
  const lower = body.toLowerCase();
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(lower)));
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    const c = lower[i]!;
    out += parseInt(hash[i]!, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

/** `0x` + 40 hex chars; if mixed-case, the EIP-55 checksum must be correct. */
export function isValidEvmAddress(s: string): boolean {
  if (typeof s !== 'string' || !s.startsWith('0x')) return false;
  const body = s.slice(2);
  if (!HEX40.test(body)) return false;
  if (body === body.toLowerCase() || body === body.toUpperCase()) return true;
  return toChecksumAddress(body) === s;
}

// ---------------------------------------------------------------------------
// TRON
// ---------------------------------------------------------------------------

function tronFromAccountId(id: Uint8Array): string {
  const payload = new Uint8Array(21);
  payload[0] = TRON_PREFIX;
  payload.set(id, 1);
  return base58check.encode(payload);
}

function decodeTron(s: string): Uint8Array | null {
  if (typeof s !== 'string' || s.length === 0 || s.length > 64) return null;
  let payload: Uint8Array;
  try {
    payload = base58check.decode(s);
  } catch {
    return null;
  }
  if (payload.length !== 21 || payload[0] !== TRON_PREFIX) return null;
  return payload;
}

/** base58check with version byte 0x41 and a 21-byte payload. */
export function isValidTronAddress(s: string): boolean {
  return decodeTron(s) !== null;
}

/** TRON base58 address → 20-byte EVM-style lowercase hex (0x41 prefix dropped). */
export function tronToHex(base58: string): `0x${string}` {
  const payload = decodeTron(base58);
  if (!payload) throw new Error('invalid TRON address');
  return `0x${bytesToHex(payload.subarray(1))}`;
}

/**
 * 20-byte hex (with or without `0x`), or 21-byte hex with the `41` prefix,
 * → TRON base58check `T...` address.
 */
export function hexToTron(hex: string): string {
  let body = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (!/^[0-9a-fA-F]*$/.test(body)) throw new Error('invalid hex address: non-hex characters');
  if (body.length === 42) {
    if (body.slice(0, 2) !== '41') throw new Error('invalid TRON hex address: 21-byte form must start with 41');
    body = body.slice(2);
  }
  if (body.length !== 40) throw new Error('invalid hex address: expected 20 bytes (or 21 bytes with 41 prefix)');
  return tronFromAccountId(hexToBytes(body.toLowerCase()));
}

// ---------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------

/**
 * Canonical form of an address, or null if invalid.
 * EVM → EIP-55 checksummed (all-lower / all-upper input accepted; mixed case
 * must carry a correct checksum). TRON → the base58check `T...` string.
 * Surrounding whitespace is ignored.
 */
export function normalizeAddress(family: NetworkFamily, s: string): string | null {
  if (typeof s !== 'string') return null;
  const t = s.trim();
  switch (family) {
    case 'EVM':
      return isValidEvmAddress(t) ? toChecksumAddress(t) : null;
    case 'TRON':
      return isValidTronAddress(t) ? t : null;
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------
// Sandbox
// ---------------------------------------------------------------------------

/** Public BIP39 test mnemonic. Anyone can spend funds sent to its addresses: sandbox only. */
export const SANDBOX_TEST_MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

/**
 * Account xpubs of SANDBOX_TEST_MNEMONIC (empty passphrase) at m/44'/60'/0'
 * (EVM) and m/44'/195'/0' (TRON). Recomputed in test/addresses.test.ts.
 */
export const SANDBOX_XPUBS: Record<NetworkFamily, string> = Object.freeze({
  EVM: 'xpub6DCoCpSuQZB2jawqnGMEPS63ePKWkwWPH4TU45Q7LPXWuNd8TMtVxRrgjtEshuqpK3mdhaWHPFsBngh5GFZaM6si3yZdUsT8ddYM3PwnATt',
  TRON: 'xpub6D1AabNHCupeiLM65ZR9UStMhJ1vCpyV4XbZdyhMZBiJXALQtmn9p42VTQckoHVn8WNqS7dqnJokZHAHcHGoaQgmv8D45oNUKx6DZMNZBCd',
});

const SANDBOX_XPUB_SET: ReadonlySet<string> = new Set(Object.values(SANDBOX_XPUBS));

/** True if `xpub` is one of the publicly known sandbox account xpubs. */
export function isSandboxXpub(xpub: string): boolean {
  return typeof xpub === 'string' && SANDBOX_XPUB_SET.has(xpub.trim());
}
