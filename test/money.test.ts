import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bpsOf, convert, formatDecimal, minor, parseDecimal, parseRate } from '../src/infra/lib/money.ts';
import { computeQuote } from '../src/adapters/pricing/pricing.ts';

describe('money math (bigint minor units, exact decimal rates)', () => {
  it('parses and formats decimals exactly, refusing what is not a plain decimal', () => {
    assert.equal(parseDecimal('1000.00', 2), 100000n);
    assert.equal(parseDecimal('998.1375', 6), 998137500n);
    assert.equal(parseDecimal('0.000001', 6), 1n);
    for (const bad of ['1e3', '-1', '+1', '1.', '.5', '01', '1.0000001', '', ' 1', '1,5', 'NaN', 'Infinity'])
      assert.equal(parseDecimal(bad, 6), null, bad);
    assert.equal(formatDecimal(998137500n, 6), '998.137500');
    assert.equal(formatDecimal(5n, 2), '0.05');
    assert.equal(formatDecimal(0n, 2), '0.00');
  });

  it('format(parse(x)) round-trips for any amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 18 }), (v, scale) => {
        assert.equal(parseDecimal(formatDecimal(v, scale), scale), v);
      }),
    );
  });

  it('conversion conserves value: out × den + remainder = amount × rate × 10^toScale', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 20n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.integer({ min: 0, max: 10 }),
        fc.constantFrom(2, 6),
        fc.constantFrom(0, 2),
        (amount, rateValue, rateScale, fromScale, toScale) => {
          const rate = { value: rateValue, scale: rateScale };
          const { out, remainderNum, remainderDen } = convert(amount, fromScale, rate, toScale);
          assert.ok(remainderNum >= 0n && remainderNum < remainderDen);
          assert.equal(out * remainderDen + remainderNum, amount * rateValue * 10n ** BigInt(toScale));
        },
      ),
    );
  });

  it('quote: net fiat + fees + rounding remainder = gross value in, for random amounts, rates and fees', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 15n }),
        fc.tuple(fc.integer({ min: 1, max: 99999 }), fc.integer({ min: 0, max: 6 })),
        fc.integer({ min: 0, max: 500 }),
        fc.bigInt({ min: 0n, max: 1000n }),
        (amount, [rv, rs], spreadBps, fixedFeeMinor) => {
          const rate = parseRate(formatDecimal(BigInt(rv), rs))!;
          const q = computeQuote(
            'USDT',
            'EUR',
            amount,
            { rate, source: 'test', asOf: new Date(0) },
            { spreadBps, fixedFeeMinor: minor('EUR', fixedFeeMinor) },
          );
          const fees = q.spreadFee + q.fixedFee;
          if (q.grossAmount >= fees) assert.equal(q.toAmount + fees, q.grossAmount);
          else assert.equal(q.toAmount, 0n);
          // gross + remainder fraction is exactly the value in
          assert.equal(q.grossAmount * q.remainderDen + q.remainderNum, amount * rate.value * 100n);
          assert.ok(q.spreadFee === bpsOf(q.grossAmount, spreadBps));
        },
      ),
    );
  });

  it('rates are exact decimals', () => {
    assert.deepEqual(parseRate('0.92'), { value: 92n, scale: 2 });
    assert.equal(parseRate('0'), null);
    assert.equal(parseRate('1e-3'), null);
  });
});
