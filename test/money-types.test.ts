/**
 * Compile-time proof that `Minor<A>` keeps assets apart. `npm run typecheck` (tsc over test/)
 * checks every `@ts-expect-error` below: if a line that must not compile starts compiling (say
 * the brand is weakened to plain bigint), the directive becomes unused and tsc fails. node:test
 * runs the file too, so the runtime assertions check the helpers do the arithmetic they name.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addMinor, bpsOf, minor, minorFromDb, negMinor, parseAmount, subMinor, sumMinor, type Minor } from '../src/infra/lib/money.ts';
import { computeQuote, type FeeSchedule } from '../src/adapters/pricing/pricing.ts';
import { entry, type Entry } from '../src/domain/ledger/ledger.ts';
import type { PaymentFile, PaymentInstruction } from '../src/adapters/rails/formats/types.ts';
import { chooseRail } from '../src/adapters/rails/rails.ts';
import { creditor } from './helpers/banks.ts';

const eur = minor('EUR', 500n);
const usd = minor('USD', 700n);
const usdt = minor('USDT', 1_000000n);
const takesUsdt = (x: Minor<'USDT'>): bigint => x;

// Type-level checks, compiled by tsc; never called at run time.
export function typeLevelChecks(file: PaymentFile<'EUR'>): unknown[] {
  // @ts-expect-error a EUR amount is not a USD amount
  const asUsd: Minor<'USD'> = eur;
  // @ts-expect-error a plain bigint carries no asset
  const fromRaw: Minor<'USD'> = 5n;
  // @ts-expect-error EUR and USD cannot be added through the helpers
  const mixedSum = addMinor(usd, eur);
  // @ts-expect-error nor subtracted
  const mixedDiff = subMinor(eur, usd);
  // @ts-expect-error a sum of EUR amounts is not USD
  const wrongSum: Minor<'USD'> = sumMinor('EUR', [eur, eur]);
  // @ts-expect-error a fiat amount is not a token amount
  const fiatAsToken = takesUsdt(eur);
  // @ts-expect-error USDC is not USDT either
  const otherToken = takesUsdt(minor('USDC', 1n));
  // @ts-expect-error parsing keeps the asset: a parsed EUR amount is not USD
  const parsed: Minor<'USD'> | null = parseAmount('EUR', '1.00');
  // @ts-expect-error a fee on EUR is EUR
  const fee: Minor<'USD'> = bpsOf(eur, 50);
  // @ts-expect-error a repository read is branded with the asset it was read for
  const read: Minor<'USD'> = minorFromDb('EUR', '100');
  // @ts-expect-error a journal line's amount must be in the line's asset
  const line: Entry = { account: 'asset:bank', asset: 'USD', amount: eur };
  // @ts-expect-error so must one built with the helper
  const built = entry('asset:bank', 'USD', eur);
  // @ts-expect-error the quote's crypto amount is in the crypto asset
  const quote = computeQuote('USDT', 'EUR', eur, { rate: { value: 1n, scale: 0 }, source: 't', asOf: new Date(0) }, noFees('EUR'));
  // @ts-expect-error a fee schedule for USD cannot price a EUR quote
  const quoteFees = computeQuote('USDT', 'EUR', usdt, { rate: { value: 1n, scale: 0 }, source: 't', asOf: new Date(0) }, noFees('USD'));
  // The quote's fiat amounts come out in the fiat asset.
  const q = computeQuote('USDT', 'EUR', usdt, { rate: { value: 1n, scale: 0 }, source: 't', asOf: new Date(0) }, noFees('EUR'));
  // @ts-expect-error net EUR is not USD
  const net: Minor<'USD'> = q.toAmount;
  // @ts-expect-error a EUR payment file carries EUR amounts only
  const ins: PaymentInstruction<'EUR'> = { ...instruction, currency: 'EUR', amountMinor: usd };
  // @ts-expect-error and its control sum is EUR
  const control: Minor<'USD'> = file.controlSumMinor;
  // @ts-expect-error choosing a EUR rail for a USD amount
  const rail = chooseRail('EUR', usd, new Date(0));
  const checked: unknown[] = [asUsd, fromRaw, mixedSum, mixedDiff, wrongSum, fiatAsToken, otherToken, parsed, fee, read, line];
  return [...checked, built, quote, quoteFees, net, ins, control, rail];
}

function noFees<T extends 'EUR' | 'USD'>(currency: T): FeeSchedule<T> {
  return { spreadBps: 0, fixedFeeMinor: minor(currency, 0n) };
}

const instruction = {
  payoutId: 'p1',
  endToEndId: 'p1',
  remittance: 'r',
  creditor: creditor({ name: 'n', bankName: 'b', accountNo: '1' }),
};

describe('Minor<A> helpers', () => {
  it('do the arithmetic they name and keep the asset', () => {
    const a = minor('EUR', 1_25n);
    const b = minor('EUR', 75n);
    const sum: Minor<'EUR'> = addMinor(a, b);
    const diff: Minor<'EUR'> = subMinor(a, b);
    const neg: Minor<'EUR'> = negMinor(a);
    const total: Minor<'EUR'> = sumMinor('EUR', [a, b, b]);
    assert.equal(sum, 200n);
    assert.equal(diff, 50n);
    assert.equal(neg, -125n);
    assert.equal(total, 275n);
    assert.equal(sumMinor('USD', []), 0n);
    const ok: Entry = entry('asset:bank', 'EUR', a);
    assert.deepEqual(ok, { account: 'asset:bank', asset: 'EUR', amount: 125n });
  });

  it('reads database numerics as integers and refuses anything else', () => {
    assert.equal(minorFromDb('USDT', '123456789012345678901234567890'), 123456789012345678901234567890n);
    assert.equal(minorFromDb('EUR', '-42'), -42n);
    for (const bad of ['', '1.5', '1e3', ' 1', '0x10', '--1'])
      assert.throws(() => minorFromDb('EUR', bad), RangeError, `accepted ${JSON.stringify(bad)}`);
  });
});
