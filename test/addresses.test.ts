import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mnemonicToSeedSync } from '@scure/bip39';
import { HDKey } from '@scure/bip32';
import { createBase58check } from '@scure/base';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import {
  SANDBOX_TEST_MNEMONIC,
  SANDBOX_XPUBS,
  deriveAddress,
  hexToTron,
  isSandboxXpub,
  isValidEvmAddress,
  isValidTronAddress,
  normalizeAddress,
  parseAccountXpub,
  toChecksumAddress,
  tronToHex,
} from '../src/adapters/chains/addresses.ts';

const b58c = createBase58check(sha256);
const seed = mnemonicToSeedSync(SANDBOX_TEST_MNEMONIC, '');
const root = HDKey.fromMasterSeed(seed);

/**
 * Independent reference: derive from the *private* path and compute the
 * address from the private key (no xpub, no public-only derivation, no point
 * decompression), so the tests are not circular.
 */
function accountIdFromPrivatePath(path: string): Uint8Array {
  const priv = root.derive(path).privateKey;
  assert.ok(priv, 'private key expected');
  const uncompressed = secp256k1.getPublicKey(priv, false);
  assert.equal(uncompressed.length, 65);
  return keccak_256(uncompressed.subarray(1)).subarray(12);
}
function refEvm(path: string): string {
  return toChecksumAddress(bytesToHex(accountIdFromPrivatePath(path)));
}
function refTron(path: string): string {
  const id = accountIdFromPrivatePath(path);
  const payload = new Uint8Array(21);
  payload[0] = 0x41;
  payload.set(id, 1);
  return b58c.encode(payload);
}

describe('sandbox xpubs', () => {
  test('SANDBOX_XPUBS equal the account xpubs recomputed from the test mnemonic', () => {
    assert.equal(SANDBOX_TEST_MNEMONIC.split(' ').length, 12);
    assert.equal(root.derive("m/44'/60'/0'").publicExtendedKey, SANDBOX_XPUBS.EVM);
    assert.equal(root.derive("m/44'/195'/0'").publicExtendedKey, SANDBOX_XPUBS.TRON);
  });

  test('isSandboxXpub', () => {
    assert.equal(isSandboxXpub(SANDBOX_XPUBS.EVM), true);
    assert.equal(isSandboxXpub(SANDBOX_XPUBS.TRON), true);
    assert.equal(isSandboxXpub(root.derive("m/44'/60'/1'").publicExtendedKey), false);
    assert.equal(isSandboxXpub(''), false);
    assert.equal(isSandboxXpub('garbage'), false);
  });
});

describe('deriveAddress', () => {
  const evmVectors: Array<[number, string]> = [
    [0, '0x9858EfFD232B4033E47d90003D41EC34EcaEda94'],
    [1, '0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0'],
    [2, '0xb6716976A3ebe8D39aCEB04372f22Ff8e6802D7A'],
  ];
  for (const [i, expected] of evmVectors) {
    test(`EVM m/44'/60'/0'/0/${i} = ${expected}`, () => {
      const fromXpub = deriveAddress(SANDBOX_XPUBS.EVM, 'EVM', i);
      assert.equal(fromXpub, expected);
      assert.equal(refEvm(`m/44'/60'/0'/0/${i}`), expected);
      assert.equal(isValidEvmAddress(fromXpub), true);
    });
  }

  test("TRON m/44'/195'/0'/0/0 = TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH", () => {
    const expected = 'TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH';
    assert.equal(deriveAddress(SANDBOX_XPUBS.TRON, 'TRON', 0), expected);
    assert.equal(refTron("m/44'/195'/0'/0/0"), expected);
    assert.equal(isValidTronAddress(expected), true);
  });

  test('xpub derivation matches private-path derivation for many indices and both families', () => {
    for (const i of [0, 1, 2, 3, 7, 19, 100, 12345, 0x7fffffff]) {
      assert.equal(deriveAddress(SANDBOX_XPUBS.EVM, 'EVM', i), refEvm(`m/44'/60'/0'/0/${i}`), `EVM ${i}`);
      assert.equal(deriveAddress(SANDBOX_XPUBS.TRON, 'TRON', i), refTron(`m/44'/195'/0'/0/${i}`), `TRON ${i}`);
    }
  });

  test('EVM and TRON forms of the same key share the 20-byte account id', () => {
    const evm = deriveAddress(SANDBOX_XPUBS.EVM, 'EVM', 5);
    const tron = deriveAddress(SANDBOX_XPUBS.EVM, 'TRON', 5);
    assert.equal(tronToHex(tron), evm.toLowerCase());
  });

  test('repeated (cached) derivations are stable and fast', () => {
    const first = deriveAddress(SANDBOX_XPUBS.EVM, 'EVM', 42);
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) assert.equal(deriveAddress(SANDBOX_XPUBS.EVM, 'EVM', 42), first);
    // Very loose bound (~ms per derivation on any machine): guards against
    // re-parsing + re-deriving the whole path every call regressing badly.
    assert.ok(performance.now() - t0 < 10_000);
  });

  test('rejects invalid indices (negative, hardened, non-integer)', () => {
    for (const bad of [-1, 0x80000000, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => deriveAddress(SANDBOX_XPUBS.EVM, 'EVM', bad), /invalid derivation index/);
    }
  });

  test('rejects unknown family and bad xpub', () => {
    assert.throws(() => deriveAddress(SANDBOX_XPUBS.EVM, 'BTC' as never, 0), /unsupported network family/);
    assert.throws(() => deriveAddress('xpubnope', 'EVM', 0), /invalid account xpub/);
  });
});

describe('parseAccountXpub', () => {
  test('accepts a valid xpub (public only)', () => {
    const k = parseAccountXpub(SANDBOX_XPUBS.EVM);
    assert.equal(k.privateKey, null);
    assert.equal(k.depth, 3);
    assert.equal(k.publicExtendedKey, SANDBOX_XPUBS.EVM);
  });

  test('refuses an xprv without echoing it', () => {
    const xprv = root.derive("m/44'/60'/0'").privateExtendedKey;
    assert.ok(xprv.startsWith('xprv'));
    assert.throws(
      () => parseAccountXpub(xprv),
      (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.match(err.message, /private keys are never accepted/);
        assert.ok(!err.message.includes(xprv));
        return true;
      },
    );
    // Even with a broken checksum it is refused as a private key.
    assert.throws(() => parseAccountXpub(xprv.slice(0, -1) + (xprv.endsWith('a') ? 'b' : 'a')), /private keys are never accepted/);
  });

  test('refuses a private key serialized with xpub version bytes', () => {
    const raw = b58c.decode(root.derive("m/44'/60'/0'").privateExtendedKey);
    raw.set([0x04, 0x88, 0xb2, 0x1e], 0);
    assert.throws(() => parseAccountXpub(b58c.encode(raw)), /private keys are never accepted/);
  });

  test('refuses garbage', () => {
    const xpub = SANDBOX_XPUBS.EVM;
    const flipped = xpub.slice(0, 20) + (xpub[20] === 'A' ? 'B' : 'A') + xpub.slice(21);
    const bad = [
      '',
      '   ',
      'hello',
      'xpub',
      '0x9858EfFD232B4033E47d90003D41EC34EcaEda94',
      flipped, // checksum mismatch
      `${xpub}x`,
      xpub.slice(0, -1),
      b58c.encode(new Uint8Array(77)), // wrong length
      b58c.encode(new Uint8Array(78)), // wrong version
    ];
    for (const s of bad) {
      assert.throws(() => parseAccountXpub(s), Error, JSON.stringify(s));
    }
    assert.throws(() => parseAccountXpub(123 as unknown as string), /expected a string/);
  });

  test('refuses an xpub whose key bytes are not a curve point', () => {
    const raw = b58c.decode(SANDBOX_XPUBS.EVM);
    raw[45] = 0x04; // not a compressed-point prefix
    assert.throws(() => parseAccountXpub(b58c.encode(raw)), /compressed/);
    const raw2 = b58c.decode(SANDBOX_XPUBS.EVM);
    raw2.fill(0xff, 46); // x >= p: not on the curve
    assert.throws(() => parseAccountXpub(b58c.encode(raw2)), /invalid account xpub/);
  });

  test('refuses testnet tpub', () => {
    const raw = b58c.decode(SANDBOX_XPUBS.EVM);
    raw.set([0x04, 0x35, 0x87, 0xcf], 0);
    assert.throws(() => parseAccountXpub(b58c.encode(raw)), /tpub/);
  });
});

describe('EIP-55', () => {
  const vectors = [
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
    '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    // all-caps / all-lower vectors from the EIP
    '0x52908400098527886E0F7030069857D2E4169EE7',
    '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
    '0xde709f2102306220921060314715629080e2fb77',
    '0x27b1fdb04752bbc536007a920d24acb045561c26',
  ];
  for (const v of vectors) {
    test(`checksum ${v}`, () => {
      // Every EIP vector (including the all-caps / all-lower ones) is its own checksum form.
      assert.equal(toChecksumAddress(v.toLowerCase()), v);
      assert.equal(toChecksumAddress(v.slice(2).toUpperCase()).toLowerCase(), v.toLowerCase());
      assert.equal(isValidEvmAddress(v), true);
      assert.equal(normalizeAddress('EVM', v.toLowerCase()), toChecksumAddress(v));
    });
  }

  test('wrong-case address rejected', () => {
    const wrong = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'; // last d → D
    assert.equal(isValidEvmAddress(wrong), false);
    assert.equal(normalizeAddress('EVM', wrong), null);
    assert.equal(isValidEvmAddress('0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'), false);
  });

  test('malformed EVM addresses rejected', () => {
    for (const s of [
      '',
      '0x',
      '5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', // no 0x
      '0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe', // 39
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed0', // 41
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg',
      'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t',
    ]) {
      assert.equal(isValidEvmAddress(s), false, s);
    }
    assert.throws(() => toChecksumAddress('0x1234'));
    assert.throws(() => toChecksumAddress('zz'.repeat(20)));
  });
});

describe('TRON conversions', () => {
  const known: Array<[string, string, string]> = [
    ['USDT', 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', '0xa614f803b6fd780986a42c78ec9c7f77e6ded13c'],
    ['USDC', 'TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8', '0x3487b63d30b5b2c87fb7ffa8bcfade38eaac1abe'],
  ];
  for (const [name, b58, hex] of known) {
    test(`${name} ${b58} <-> ${hex}`, () => {
      // Independent decode of the base58check payload.
      const payload = b58c.decode(b58);
      assert.equal(payload.length, 21);
      assert.equal(payload[0], 0x41);
      assert.equal(`0x${bytesToHex(payload.subarray(1))}`, hex);

      assert.equal(isValidTronAddress(b58), true);
      assert.equal(tronToHex(b58), hex);
      assert.equal(hexToTron(hex), b58);
      assert.equal(hexToTron(hex.slice(2)), b58);
      assert.equal(hexToTron(hex.toUpperCase().replace('0X', '0x')), b58);
      assert.equal(hexToTron(`41${hex.slice(2)}`), b58);
      assert.equal(hexToTron(`0x41${hex.slice(2)}`), b58);
      assert.equal(hexToTron(tronToHex(b58)), b58);
      assert.equal(normalizeAddress('TRON', b58), b58);
      assert.equal(normalizeAddress('TRON', `  ${b58}\n`), b58);
    });
  }

  test('bad checksum rejected', () => {
    const good = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t';
    const bad = `${good.slice(0, -1)}u`;
    assert.equal(isValidTronAddress(bad), false);
    assert.equal(normalizeAddress('TRON', bad), null);
    assert.throws(() => tronToHex(bad), /invalid TRON address/);
  });

  test('wrong version prefix rejected', () => {
    const payload = hexToBytes('42a614f803b6fd780986a42c78ec9c7f77e6ded13c');
    const wrongPrefix = b58c.encode(payload);
    assert.equal(isValidTronAddress(wrongPrefix), false);
    assert.throws(() => tronToHex(wrongPrefix));
    // Valid base58check, right prefix, wrong length.
    const short = b58c.encode(hexToBytes('41a614f803b6fd780986a42c78ec9c7f77e6ded1'));
    assert.equal(isValidTronAddress(short), false);
    assert.throws(() => hexToTron('42a614f803b6fd780986a42c78ec9c7f77e6ded13c'), /41/);
  });

  test('bad characters rejected', () => {
    for (const s of [
      'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj60', // '0' is not base58
      'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLjOt', // 'O'
      'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLjIt', // 'I'
      'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLjlt', // 'l'
      'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t!',
      '',
      '0xa614f803b6fd780986a42c78ec9c7f77e6ded13c',
    ]) {
      assert.equal(isValidTronAddress(s), false, s);
      assert.equal(normalizeAddress('TRON', s), null, s);
    }
    assert.throws(() => hexToTron('0xzz14f803b6fd780986a42c78ec9c7f77e6ded13c'));
    assert.throws(() => hexToTron('0xa614'));
  });

  test('normalizeAddress does not cross families', () => {
    assert.equal(normalizeAddress('EVM', 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t'), null);
    assert.equal(normalizeAddress('TRON', '0x9858EfFD232B4033E47d90003D41EC34EcaEda94'), null);
    assert.equal(normalizeAddress('NOPE' as never, 'x'), null);
  });
});
