import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseBodyTooLargeError } from 'viem';
import { hexToTron, tronToHex } from '../src/adapters/chains/addresses.ts';
import { ChainRpcError, createJsonRpcChainClient, isRangeTooLargeError } from '../src/adapters/chains/jsonrpc-client.ts';
import { RangeTooLargeError, type ChainClient } from '../src/adapters/chains/types.ts';
import { startFakeRpc, type FakeRpcError, type FakeRpcServer } from './helpers/fake-rpc.ts';

const USDT_TRON = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t';
const USDT_TRON_HEX = '0xa614f803b6fd780986a42c78ec9c7f77e6ded13c';
const HASH = /^0x[0-9a-f]{64}$/;
const ADDR = /^0x[0-9a-f]{40}$/;

test('Tron address conversion at the edge: mainnet USDT contract round-trips', () => {
  assert.equal(tronToHex(USDT_TRON), USDT_TRON_HEX);
  assert.equal(hexToTron(USDT_TRON_HEX), USDT_TRON);
  assert.equal(hexToTron(USDT_TRON_HEX.toUpperCase().replace('0X', '0x')), USDT_TRON);
  assert.equal(hexToTron(`41${USDT_TRON_HEX.slice(2)}`), USDT_TRON);
  assert.equal(hexToTron(`0x41${USDT_TRON_HEX.slice(2)}`), USDT_TRON);
});

test('isRangeTooLargeError classifies errors', () => {
  assert.equal(isRangeTooLargeError(new RangeTooLargeError()), true);
  assert.equal(isRangeTooLargeError(new Error('query returned more than 10000 results')), true);
  assert.equal(isRangeTooLargeError(new Error('exceed max block range: 5000')), true);
  assert.equal(isRangeTooLargeError(new ResponseBodyTooLargeError({ maxSize: 10, size: 11 })), true);
  assert.equal(isRangeTooLargeError(new Error('boom')), false);
  assert.equal(isRangeTooLargeError(new Error('rate limit exceeded')), false);
  assert.equal(isRangeTooLargeError({ code: -32005, message: 'daily request count exceeded, request rate limited' }), false);
  assert.equal(isRangeTooLargeError({ code: -32005, message: 'limit exceeded' }), true);
  assert.equal(isRangeTooLargeError(null), false);
  assert.equal(isRangeTooLargeError(undefined), false);
  assert.equal(isRangeTooLargeError('query returned more than 10000 results'), false);
});

const EVM_TOKEN_A = '0xdac17f958d2ee523a2206206994597c13d831ec7';
const EVM_TOKEN_B = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48';
const OTHER_TOKEN = '0x1111111111111111111111111111111111111111';
const ALICE = '0x00000000000000000000000000000000000a11ce';
const BOB = '0xb0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0';
const CAROL = '0xc4a01c4a01c4a01c4a01c4a01c4a01c4a01c4a01';

const RANGE_STYLES: Array<[string, FakeRpcError]> = [
  ['geth/Infura -32005 "query returned more than 10000 results"', { code: -32005, message: 'query returned more than 10000 results' }],
  ['-32000 "block range is too wide"', { code: -32000, message: 'block range is too wide' }],
  ['-32000 "exceed maximum block range: 5000"', { code: -32000, message: 'exceed maximum block range: 5000' }],
  ['java-tron -32602 "exceed max block range: 5000"', { code: -32602, message: 'exceed max block range: 5000' }],
  [
    'Alchemy -32602 "Log response size exceeded"',
    {
      code: -32602,
      message:
        'Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the response size, or you can request any block range with a cap of 10K logs in the response.',
    },
  ],
  ['-32005 "limit exceeded"', { code: -32005, message: 'limit exceeded' }],
  ['-32005 with a generic message', { code: -32005, message: 'Request exceeds defined limit' }],
  ['QuickNode -32614 "eth_getLogs is limited to a 10,000 range"', { code: -32614, message: 'eth_getLogs is limited to a 10,000 range' }],
  ['HTTP 413 plain-text body', { httpStatus: 413, rawBody: 'Request Entity Too Large' }],
  ['HTTP 413 with a JSON-RPC error body', { httpStatus: 413, code: -32000, message: 'request too big' }],
  ['message only in error.data', { code: -32000, message: 'error', data: 'query returned more than 10000 results' }],
];

for (const network of ['ETH', 'TRX'] as const) {
  const tron = network === 'TRX';
  const tokenA = tron ? tronToHex(USDT_TRON) : EVM_TOKEN_A;
  const tokenB = tron ? `0x${'ab'.repeat(20)}` : EVM_TOKEN_B;

  describe(`JSON-RPC chain client (${network})`, () => {
    let fake: FakeRpcServer;
    let client: ChainClient;
    const newClient = (extra: { timeoutMs?: number; retryCountMax?: number } = {}) =>
      createJsonRpcChainClient({ network, url: fake.url, retryDelayMs: 5, ...extra });

    before(async () => {
      fake = await startFakeRpc({ tron });
      fake.mine(30); // blocks 0..29
      client = newClient();
    });
    after(async () => {
      await fake.close();
    });
    beforeEach(() => {
      fake.reset();
      fake.logs.length = 0;
    });

    test('getHeadNumber: eth_blockNumber as bigint', async () => {
      assert.equal(await client.getHeadNumber(), 29n);
      fake.mine(1);
      assert.equal(await client.getHeadNumber(), 30n);
      assert.equal(fake.callCount('eth_blockNumber'), 2);
    });

    test('getFinalizedNumber: supported tag → number', async () => {
      fake.finalized = 12n;
      assert.equal(await client.getFinalizedNumber(), 12n);
      assert.deepEqual(fake.lastParams.get('eth_getBlockByNumber'), ['finalized', false]);
    });

    test('getFinalizedNumber: null result → null, asked again next time', async () => {
      fake.finalized = null;
      const c = newClient();
      assert.equal(await c.getFinalizedNumber(), null);
      assert.equal(await c.getFinalizedNumber(), null);
      assert.equal(fake.callCount('eth_getBlockByNumber'), 2);
      fake.finalized = 7n;
      assert.equal(await c.getFinalizedNumber(), 7n);
    });

    const unsupported: FakeRpcError[] = tron
      ? [
          { code: -32602, message: 'TAG finalized not supported' },
          { code: -32602, message: 'invalid block number' },
        ]
      : [
          { code: -32000, message: 'unknown block tag finalized' },
          { code: -32602, message: 'invalid argument 0: hex string without 0x prefix' },
          { code: -32601, message: 'unsupported block tag' },
          { code: -32000, message: 'Unsupported parameter: finalized' },
        ];
    for (const e of unsupported) {
      test(`getFinalizedNumber: unsupported (${e.code} "${e.message}") → null, asked only once per client`, async () => {
        fake.finalized = 'reject';
        fake.finalizedError = e;
        const c = newClient();
        assert.equal(await c.getFinalizedNumber(), null);
        assert.equal(await c.getFinalizedNumber(), null);
        assert.equal(await c.getFinalizedNumber(), null);
        assert.equal(fake.callCount('eth_getBlockByNumber'), 1);
        // Other clients are not affected by this client's cache.
        fake.finalized = 5n;
        assert.equal(await newClient().getFinalizedNumber(), 5n);
      });
    }

    test('getFinalizedNumber: a transient failure throws and is not cached as unsupported', async () => {
      const c = newClient({ retryCountMax: 0 });
      fake.methodErrors.set('eth_getBlockByNumber', { httpStatus: 503, rawBody: 'Service Unavailable' });
      await assert.rejects(
        c.getFinalizedNumber(),
        (err: unknown) => err instanceof ChainRpcError && /eth_getBlockByNumber/.test(err.message) && /503/.test(err.message),
      );
      fake.methodErrors.clear();
      fake.finalized = 9n;
      assert.equal(await c.getFinalizedNumber(), 9n);
    });

    test('getBlock: existing block → normalised header linked to its parent', async () => {
      const b = await client.getBlock(10n);
      const p = await client.getBlock(9n);
      assert.ok(b && p);
      assert.equal(b.number, 10n);
      assert.match(b.hash, HASH);
      assert.match(b.parentHash, HASH);
      assert.equal(b.parentHash, p.hash);
      assert.equal(b.hash, fake.blocks[10]!.hash);
      assert.equal(b.timestamp, 1_700_000_030);
      assert.equal(typeof b.timestamp, 'number');
      assert.deepEqual(fake.lastParams.get('eth_getBlockByNumber'), ['0x9', false]);
    });

    test('getBlock: missing block → null', async () => {
      assert.equal(await client.getBlock(10_000n), null);
    });

    test('getTransferLogs: decoding, filtering and ordering', async () => {
      const big = 2n ** 64n + 12_345n;
      const max = 2n ** 256n - 1n;
      fake.addTransfer({ blockNumber: 12n, logIndex: 3, token: tokenA, from: ALICE, to: BOB, value: 5n });
      fake.addTransfer({ blockNumber: 11n, logIndex: 7, token: tokenB, from: BOB, to: CAROL, value: big });
      fake.addTransfer({ blockNumber: 11n, logIndex: 2, token: tokenA, from: CAROL, to: ALICE, value: max });
      // ERC-721 Transfer (tokenId indexed → 4 topics, empty data): skipped.
      fake.addTransfer({
        blockNumber: 11n,
        logIndex: 4,
        token: tokenA,
        from: ALICE,
        to: BOB,
        value: 0n,
        extraTopics: [`0x${'0'.repeat(63)}1`],
        data: '0x',
      });
      // 4 topics with a 32-byte data word (non-standard): still not an ERC-20 Transfer, skipped.
      fake.addTransfer({
        blockNumber: 12n,
        logIndex: 8,
        token: tokenA,
        from: ALICE,
        to: BOB,
        value: 77n,
        extraTopics: [`0x${'0'.repeat(63)}2`],
      });
      // Removed by a reorg: skipped.
      fake.addTransfer({ blockNumber: 12n, logIndex: 1, token: tokenA, from: ALICE, to: BOB, value: 99n, removed: true });
      // Not allow-listed: filtered by the node here.
      fake.addTransfer({ blockNumber: 12n, logIndex: 5, token: OTHER_TOKEN, from: ALICE, to: BOB, value: 1n });
      // Outside the range.
      fake.addTransfer({ blockNumber: 14n, logIndex: 0, token: tokenA, from: ALICE, to: BOB, value: 1n });

      const logs = await client.getTransferLogs({ fromBlock: 10n, toBlock: 13n }, [tokenA, tokenB]);
      assert.deepEqual(
        logs.map((l) => [l.blockNumber, l.logIndex, l.token, l.from, l.to, l.value]),
        [
          [11n, 2, tokenA, CAROL, ALICE, max],
          [11n, 7, tokenB, BOB, CAROL, big],
          [12n, 3, tokenA, ALICE, BOB, 5n],
        ],
      );
      for (const l of logs) {
        assert.match(l.blockHash, HASH);
        assert.match(l.txHash, HASH);
        assert.match(l.token, ADDR);
        assert.equal(l.blockHash, fake.blocks[Number(l.blockNumber)]!.hash);
        assert.equal(typeof l.value, 'bigint');
      }
      const sent = fake.lastParams.get('eth_getLogs')?.[0] as Record<string, unknown>;
      assert.deepEqual(sent, {
        fromBlock: '0xa',
        toBlock: '0xd',
        address: [tokenA, tokenB],
        topics: ['0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'],
      });
      if (tron) {
        assert.equal(hexToTron(logs[0]!.token), USDT_TRON);
      }
    });

    test('getTransferLogs: logs of contracts outside the allow-list are dropped even if the node sends them', async () => {
      fake.ignoreAddressFilter = true;
      fake.addTransfer({ blockNumber: 12n, logIndex: 0, token: OTHER_TOKEN, from: ALICE, to: BOB, value: 1n });
      fake.addTransfer({ blockNumber: 12n, logIndex: 1, token: tokenA, from: ALICE, to: BOB, value: 2n });
      const logs = await client.getTransferLogs({ fromBlock: 12n, toBlock: 12n }, [tokenA]);
      assert.deepEqual(
        logs.map((l) => l.value),
        [2n],
      );
    });

    test('getTransferLogs: no tokens or an empty range → [] without a call', async () => {
      assert.deepEqual(await client.getTransferLogs({ fromBlock: 1n, toBlock: 5n }, []), []);
      assert.deepEqual(await client.getTransferLogs({ fromBlock: 5n, toBlock: 4n }, [tokenA]), []);
      assert.equal(fake.callCount('eth_getLogs'), 0);
    });

    for (const [name, err] of RANGE_STYLES) {
      test(`getTransferLogs: range refused (${name}) → RangeTooLargeError, not retried`, async () => {
        fake.maxLogRange = 5n;
        fake.rangeError = err;
        fake.addTransfer({ blockNumber: 3n, logIndex: 0, token: tokenA, from: ALICE, to: BOB, value: 1n });
        await assert.rejects(client.getTransferLogs({ fromBlock: 0n, toBlock: 20n }, [tokenA]), (e: unknown) => {
          assert.ok(e instanceof RangeTooLargeError, String(e));
          assert.ok(isRangeTooLargeError(e));
          assert.match((e as Error).message, /eth_getLogs/);
          return true;
        });
        assert.equal(fake.callCount('eth_getLogs'), 1);
        // The split range is served.
        const logs = await client.getTransferLogs({ fromBlock: 0n, toBlock: 4n }, [tokenA]);
        assert.equal(logs.length, 1);
      });
    }

    test('getTransferLogs: rate limiting is not a range refusal (retried, then a plain error)', async () => {
      fake.methodErrors.set('eth_getLogs', { code: -32005, message: 'daily request count exceeded, request rate limited' });
      await assert.rejects(client.getTransferLogs({ fromBlock: 0n, toBlock: 2n }, [tokenA]), (e: unknown) => {
        assert.ok(!(e instanceof RangeTooLargeError));
        assert.ok(e instanceof ChainRpcError);
        assert.match(e.message, /eth_getLogs/);
        assert.equal(e.code, -32005);
        return true;
      });
      assert.equal(fake.callCount('eth_getLogs'), 3);
    });

    test('a plain server error → Error naming the method (not retried, no URL in the message)', async () => {
      fake.methodErrors.set('eth_getLogs', { code: -32000, message: 'header not found' });
      fake.methodErrors.set('eth_getBlockByNumber', { code: -32000, message: 'something broke' });
      await assert.rejects(client.getTransferLogs({ fromBlock: 0n, toBlock: 2n }, [tokenA]), (e: unknown) => {
        assert.ok(e instanceof Error && !(e instanceof RangeTooLargeError));
        assert.match(e.message, new RegExp(`^${network} eth_getLogs failed: .*header not found`));
        assert.ok(!e.message.includes('127.0.0.1'));
        assert.equal(e.cause, undefined);
        return true;
      });
      await assert.rejects(client.getBlock(3n), /eth_getBlockByNumber failed: .*something broke/);
      assert.equal(fake.callCount('eth_getLogs'), 1);
      assert.equal(fake.callCount('eth_getBlockByNumber'), 1);
    });

    test('HTTP 500 is retried retryCountMax times, then an Error naming the method', async () => {
      fake.methodErrors.set('eth_blockNumber', { httpStatus: 500, rawBody: 'Internal Server Error' });
      await assert.rejects(client.getHeadNumber(), /eth_blockNumber failed: HTTP 500/);
      assert.equal(fake.callCount('eth_blockNumber'), 3);
      fake.reset();
      fake.methodErrors.set('eth_blockNumber', { httpStatus: 502, rawBody: 'Bad Gateway' });
      await assert.rejects(newClient({ retryCountMax: 0 }).getHeadNumber(), /eth_blockNumber failed: HTTP 502/);
      assert.equal(fake.callCount('eth_blockNumber'), 1);
    });

    test('HTTP 413 outside eth_getLogs is a plain error', async () => {
      fake.methodErrors.set('eth_blockNumber', { httpStatus: 413, rawBody: 'Request Entity Too Large' });
      await assert.rejects(
        client.getHeadNumber(),
        (e: unknown) => e instanceof ChainRpcError && !(e instanceof RangeTooLargeError) && e.status === 413,
      );
    });

    test('timeouts are honoured (never-answering node, timeoutMs 200, default retries)', async () => {
      fake.hangMethods.add('eth_blockNumber');
      const c = createJsonRpcChainClient({ network, url: fake.url, timeoutMs: 200 });
      const t0 = Date.now();
      await assert.rejects(c.getHeadNumber(), /eth_blockNumber failed: timed out after 200 ms/);
      const elapsed = Date.now() - t0;
      assert.ok(elapsed < 2_000, `took ${elapsed} ms`);
      assert.ok(elapsed >= 600, `took ${elapsed} ms`); // 3 attempts of 200 ms
      assert.equal(fake.callCount('eth_blockNumber'), 3);
    });

    test('a refused connection is an Error naming the method', async () => {
      const gone = await startFakeRpc();
      const url = gone.url;
      await gone.close(); // a port nobody listens on any more
      const c = createJsonRpcChainClient({ network, url, retryCountMax: 0 });
      await assert.rejects(c.getHeadNumber(), /eth_blockNumber failed: .*ECONNREFUSED/);
    });

    test('a malformed answer is an Error naming the method', async () => {
      const c = newClient();
      fake.methodErrors.clear();
      // eth_getBlockByNumber for a block whose number does not match: simulate via an out-of-shape answer.
      const orig = fake.blocks[2]!.hash;
      fake.blocks[2]!.hash = '0x1234';
      try {
        await assert.rejects(c.getBlock(2n), /eth_getBlockByNumber failed: malformed response: hash/);
      } finally {
        fake.blocks[2]!.hash = orig;
      }
    });
  });
}

describe('JSON-RPC chain client: java-tron quirks', () => {
  for (const format of ['hex20', 'hex41', 'base58'] as const) {
    test(`log contract addresses in ${format} form, hashes without 0x, 0x41 in topic padding`, async () => {
      const fake = await startFakeRpc({ tron: true, tronAddressFormat: format });
      try {
        fake.mine(5);
        const usdt = tronToHex(USDT_TRON);
        const to = tronToHex('TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7');
        fake.addTransfer({ blockNumber: 2n, logIndex: 0, token: usdt, from: ALICE, to, value: 1_000_000n, tronPaddedTopics: true });
        const c = createJsonRpcChainClient({ network: 'TRX', url: fake.url });
        const [log, ...rest] = await c.getTransferLogs({ fromBlock: 0n, toBlock: 4n }, [usdt]);
        assert.equal(rest.length, 0);
        assert.ok(log);
        assert.equal(log.token, USDT_TRON_HEX);
        assert.equal(log.from, ALICE);
        assert.equal(log.to, to);
        assert.equal(hexToTron(log.to), 'TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7');
        assert.equal(log.value, 1_000_000n);
        assert.match(log.blockHash, HASH);
        assert.match(log.txHash, HASH);
        assert.equal(log.blockHash, fake.blocks[2]!.hash);
      } finally {
        await fake.close();
      }
    });
  }

  test('millisecond block timestamps are read as seconds', async () => {
    const fake = await startFakeRpc({ tron: true, tronTimestampMs: true });
    try {
      fake.mine(3);
      const c = createJsonRpcChainClient({ network: 'TRX', url: fake.url });
      const b = await c.getBlock(2n);
      assert.equal(b?.timestamp, 1_700_000_006);
      assert.equal(b?.hash, fake.blocks[2]!.hash);
      assert.ok(b?.hash.startsWith('0x0000000000000002'));
    } finally {
      await fake.close();
    }
  });
});
