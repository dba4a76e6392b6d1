import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { DB, TradesTable } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import type { Outbox } from '../../infra/events/outbox.ts';
import type { JobQueue } from '../../infra/jobs/queue.ts';
import type { RateSource } from '../../adapters/pricing/pricing.ts';
import type { Fees } from '../../adapters/pricing/fees.ts';
import { computeQuote, feesView } from '../../adapters/pricing/pricing.ts';
import { ACCOUNTS, ROUNDING_SCALE, roundingAsset, type Entry, type Ledger } from '../ledger/ledger.ts';
import { AppError, invariantBroken, notFound } from '../../infra/lib/errors.ts';
import { createTransition } from '../../infra/events/state-machine.ts';
import { findDeposit, linkTrade, lockDeposits } from '../deposits/deposits.ts';
import { findFlow } from '../flows/flows.ts';
import { findBankAccounts } from '../bank-accounts/bank-accounts.ts';
import { findCustomer } from '../customers/customers.ts';
import { payoutAttemptsOf } from '../payouts/payouts.ts';
import { TRADE_MACHINE } from './state-machine.ts';
import { ASSET_SCALE, formatDecimal, formatRate, isCryptoAsset, isFiatAsset, type FiatAsset } from '../../infra/lib/money.ts';
import type { CreatedRange, Page, PageResult } from '../../infra/lib/pagination.ts';

/**
 * Trades (docs/state-machines.md, docs/pricing.md): `CREATED` → `SETTLED` | `CANCELED`, at most one per confirmed deposit
 * (or per aggregated group of small deposits: the unique `deposit_key`). Two idempotent jobs:
 * `trade.create` quotes at the rate current when the deposit clears and records the trade;
 * `trade.settle` books the conversion in the ledger and hands over to the payout stage. Each
 * writes its state, event, journal and next job in one transaction, so a crash between them
 * resumes without loss or duplication.
 */
export type TradeRow = Selectable<TradesTable>;

export const TRADE_SETTLE_JOB = 'trade.settle';
export const PAYOUT_CREATE_JOB = 'payout.create';

export interface Trades {
  create(input: { depositIds: string[]; aggregateId?: string }): Promise<TradeRow | null>;
  settle(tradeId: string): Promise<TradeRow | null>;
  get(partnerId: string, id: string): Promise<TradeRow>;
  list(
    partnerId: string,
    page: Page,
    filter: {
      status?: TradeRow['status'] | undefined;
      customerId?: string | undefined;
      flowId?: string | undefined;
      /** Trades funded by this deposit (one, or one of an aggregate's). */
      depositId?: string | undefined;
    } & CreatedRange,
  ): Promise<PageResult<TradeRow>>;
  detail(row: TradeRow, q?: Kysely<DB>): Promise<Record<string, unknown>>;
}

export function tradeListItem(t: TradeRow) {
  return {
    id: t.id,
    fromAmount: formatDecimal(BigInt(t.from_amount), ASSET_SCALE[t.from_currency as 'USDT']),
    fromCurrency: t.from_currency,
    toAmount: formatDecimal(BigInt(t.to_amount), ASSET_SCALE[t.to_currency as 'EUR']),
    toCurrency: t.to_currency,
    status: t.status,
    createTime: t.created_at.toISOString(),
  };
}

/** The rounding remainder (a fraction of one fiat minor unit) at the ledger's fine scale. */
export function remainderAtFineScale(t: { to_currency: FiatAsset; remainder_num: string; remainder_den: string }): bigint {
  const num = BigInt(t.remainder_num);
  const den = BigInt(t.remainder_den);
  // den is a power of ten (10^k): num/den minor units = num × 10^(fine − scale − k) fine units.
  const k = den.toString().length - 1;
  const shift = ROUNDING_SCALE - ASSET_SCALE[t.to_currency] - k;
  if (shift < 0) throw invariantBroken(`rate precision too high to book its rounding remainder exactly (10^${k})`);
  return num * 10n ** BigInt(shift);
}

export function createTrades(deps: {
  db: Kysely<DB>;
  ids: IdGenerator;
  clock: Clock;
  outbox: Outbox;
  jobs: JobQueue;
  ledger: Ledger;
  rates: RateSource;
  fees: Fees;
}): Trades {
  const { db, ids, clock, outbox, ledger } = deps;

  /** `q`: the transaction when called inside one (events are built before commit). */
  async function detail(t: TradeRow, q: Kysely<DB> = db) {
    const fs = ASSET_SCALE[t.to_currency as 'EUR'];
    const depositIds = t.deposit_ids;
    const customer = await findCustomer(q, t.customer_id);
    return {
      ...tradeListItem(t),
      tradeId: t.id,
      deposit: depositIds[0] ? { id: depositIds[0], customerName: customer?.name ?? null } : null,
      legacyDeposit: null,
      withdrawal: null,
      customerId: t.customer_id,
      flowId: t.flow_id,
      bankAccountId: t.bank_account_id,
      depositIds,
      rate: t.rate,
      rateSource: t.rate_source,
      rateTime: t.rate_time.toISOString(),
      grossAmount: formatDecimal(BigInt(t.gross_amount), fs),
      // Itemised (docs/pricing.md): spread and fixed are OpenRamp's, partner is owed to the partner.
      fees: feesView(t.to_currency as FiatAsset, {
        spreadFee: BigInt(t.spread_fee),
        fixedFee: BigInt(t.fixed_fee),
        partnerFee: BigInt(t.partner_fee),
      }),
      // Rail the fixed fee was priced for: the payout rail expected for the gross amount at trade time.
      rail: t.fee_rail,
      roundingRemainder: formatDecimal(remainderAtFineScale(t), ROUNDING_SCALE),
      cancelReason: t.cancel_reason,
      payouts: (await payoutAttemptsOf(q, t.id)).map((p) => ({ id: p.id, status: p.status, attempt: p.attempt })),
      settledAt: t.settled_at ? t.settled_at.toISOString() : null,
      updateTime: t.updated_at.toISOString(),
    };
  }

  const { transition, announce } = createTransition(TRADE_MACHINE, {
    clock,
    events: {
      outbox,
      objectType: 'trade',
      payload: (tx, t) => detail(t, tx),
    },
  });

  /** The pair a deposit would trade: its token and its flow's payout currency. */
  async function pairOf(depositId: string) {
    const deposit = await findDeposit(db, depositId);
    const flow = deposit?.flow_id ? await findFlow(db, deposit.flow_id) : undefined;
    const [bank] = flow ? await findBankAccounts(db, [flow.bank_account_id]) : [];
    return deposit && bank ? { from: deposit.currency, to: bank.currency } : undefined;
  }

  return {
    async create({ depositIds, aggregateId }) {
      if (depositIds.length === 0) throw new AppError('INVALID_PARAMETERS', 'trade.create: no deposits');
      const depositKey = aggregateId ?? depositIds[0]!;
      // The rate may come over the network (ECB): fetch it before taking any row lock, so a slow
      // rate source never holds deposits locked. The pair (token, payout currency) is immutable
      // for these deposits, so reading it outside the transaction is safe.
      const pair = await pairOf(depositIds[0]!);
      if (!pair) throw invariantBroken(`trade.create: deposit ${depositIds[0]} has no flow`);
      if (!isCryptoAsset(pair.from) || !isFiatAsset(pair.to))
        throw invariantBroken(`trade.create: unsupported pair ${pair.from}/${pair.to}`);
      const rate = await deps.rates.quote(pair.from, pair.to); // throws a retryable error when no rate is available
      return db.transaction().execute(async (tx) => {
        // Lock the deposits first, then look for the trade: a concurrent run that got here first
        // has committed by the time the locks are ours, so it is seen and nothing is done twice.
        const deposits = await lockDeposits(tx, depositIds);
        const existing = await tx.selectFrom('trades').selectAll().where('deposit_key', '=', depositKey).executeTakeFirst();
        if (existing) return existing; // created before a crash or by a retry: nothing to do
        if (deposits.length !== depositIds.length) throw invariantBroken(`trade.create: deposits missing for ${depositKey}`);
        const first = deposits[0]!;
        for (const d of deposits) {
          if (d.status !== 'CONFIRMED') throw invariantBroken(`trade.create: deposit ${d.id} is ${d.status}`);
          if (d.trade_id) throw new AppError('DEPOSIT_ALREADY_TRADED', `trade.create: deposit ${d.id} already traded in ${d.trade_id}`);
          if (d.currency !== first.currency || d.flow_id !== first.flow_id)
            throw invariantBroken('trade.create: deposits of different tokens or flows');
        }
        const flow = first.flow_id ? await findFlow(tx, first.flow_id) : undefined;
        const [bank] = flow ? await findBankAccounts(tx, [flow.bank_account_id]) : [];
        const customer = await findCustomer(tx, first.customer_id);
        if (!flow || !bank || !customer) throw invariantBroken(`trade.create: flow, bank account or customer of ${first.id} missing`);
        const from = first.currency;
        const to = bank.currency;
        if (!isCryptoAsset(from) || !isFiatAsset(to)) throw invariantBroken(`trade.create: unsupported pair ${from}/${to}`);
        if (from !== pair.from || to !== pair.to)
          throw invariantBroken(`trade.create: pair changed under the quote (${pair.from}/${pair.to} → ${from}/${to})`);
        const fromAmount = deposits.reduce((s, d) => s + BigInt(d.amount), 0n);
        // The partner's schedule; the fixed fee is that of the rail chosen for the gross amount now.
        const fees = await deps.fees.forPartner(first.partner_id, to, undefined, tx);
        const q = computeQuote(from, to, fromAmount, rate, fees);
        // Cancel (with a reason, the crypto stays owed to the customer) when the payout could not lawfully proceed.
        let cancelReason: string | null = null;
        if (customer.status !== 'CONFIRMED') cancelReason = `CUSTOMER_NOT_CONFIRMED: customer is ${customer.status}`;
        else if (bank.verification_status !== 'VERIFIED')
          cancelReason = `BANK_ACCOUNT_NOT_VERIFIED: ${bank.id} is ${bank.verification_status}`;
        else if (q.toAmount === 0n) cancelReason = 'AMOUNT_BELOW_FEES: fees exceed the converted amount';
        const now = clock.now();
        const trade = await tx
          .insertInto('trades')
          .values({
            id: ids.next('trade'),
            partner_id: first.partner_id,
            customer_id: first.customer_id,
            flow_id: flow.id,
            bank_account_id: bank.id,
            deposit_key: depositKey,
            deposit_ids: JSON.stringify(deposits.map((d) => d.id)),
            from_currency: from,
            from_amount: fromAmount.toString(),
            to_currency: to,
            gross_amount: q.grossAmount.toString(),
            spread_fee: q.spreadFee.toString(),
            fixed_fee: q.fixedFee.toString(),
            partner_fee: q.partnerFee.toString(),
            fee_rail: q.rail,
            to_amount: q.toAmount.toString(),
            remainder_num: q.remainderNum.toString(),
            remainder_den: q.remainderDen.toString(),
            rate: formatRate(q.rate.rate),
            rate_source: q.rate.source,
            rate_time: q.rate.asOf,
            status: cancelReason ? 'CANCELED' : 'CREATED',
            cancel_reason: cancelReason,
            version: 1,
            created_at: now,
            settled_at: null,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await linkTrade(
          tx,
          deposits.map((d) => d.id),
          trade.id,
          now,
        );
        await announce(tx, trade, 'TRADE_CREATED');
        if (!cancelReason)
          await deps.jobs.enqueue(tx, {
            kind: TRADE_SETTLE_JOB,
            payload: { tradeId: trade.id },
            uniqueKey: `${TRADE_SETTLE_JOB}:${trade.id}`,
          });
        return trade;
      });
    },

    async settle(tradeId) {
      return db.transaction().execute(async (tx) => {
        const t = await tx.selectFrom('trades').selectAll().where('id', '=', tradeId).forUpdate().executeTakeFirst();
        if (!t) throw notFound('trade', tradeId);
        if (t.status !== 'CREATED') return t; // already settled (or canceled): idempotent
        const from = BigInt(t.from_amount);
        const gross = BigInt(t.gross_amount);
        const net = BigInt(t.to_amount);
        const houseFees = BigInt(t.spread_fee) + BigInt(t.fixed_fee); // OpenRamp's revenue
        const partnerFee = BigInt(t.partner_fee); // owed to the partner
        // Invariant: what the customer receives plus the itemised fees is exactly the gross conversion.
        if (net < 0n || houseFees < 0n || partnerFee < 0n || net + houseFees + partnerFee !== gross)
          throw invariantBroken(`trade ${t.id}: amounts do not add up`);
        const entries: Entry[] = [
          { account: ACCOUNTS.customerCrypto(t.partner_id, t.customer_id), asset: t.from_currency, amount: from },
          { account: ACCOUNTS.houseCrypto(), asset: t.from_currency, amount: -from },
        ];
        if (gross > 0n) {
          entries.push({ account: ACCOUNTS.fxPosition(), asset: t.to_currency, amount: gross });
          if (net > 0n) entries.push({ account: ACCOUNTS.customerFiat(t.partner_id, t.customer_id), asset: t.to_currency, amount: -net });
          if (houseFees > 0n) entries.push({ account: ACCOUNTS.feeRevenue(t.partner_id), asset: t.to_currency, amount: -houseFees });
          if (partnerFee > 0n) entries.push({ account: ACCOUNTS.partnerFees(t.partner_id), asset: t.to_currency, amount: -partnerFee });
        }
        const rem = remainderAtFineScale(t);
        if (rem > 0n) {
          entries.push({ account: ACCOUNTS.fxPosition(), asset: roundingAsset(t.to_currency), amount: rem });
          entries.push({ account: ACCOUNTS.rounding(), asset: roundingAsset(t.to_currency), amount: -rem });
        }
        await ledger.post(tx, { kind: 'trade.executed', refId: t.id, memo: `${t.from_currency}→${t.to_currency} at ${t.rate}`, entries });
        const now = clock.now();
        const settled = await transition(tx, t, 'SETTLED', { settled_at: now, updated_at: now });
        await deps.jobs.enqueue(tx, { kind: PAYOUT_CREATE_JOB, payload: { tradeId: t.id }, uniqueKey: `${PAYOUT_CREATE_JOB}:${t.id}` });
        return settled;
      });
    },

    async get(partnerId, id) {
      const row = await db.selectFrom('trades').selectAll().where('id', '=', id).where('partner_id', '=', partnerId).executeTakeFirst();
      if (!row) throw notFound('trade', id);
      return row;
    },

    async list(partnerId, page, filter) {
      let q = db.selectFrom('trades').where('partner_id', '=', partnerId);
      if (filter.status) q = q.where('status', '=', filter.status);
      if (filter.customerId) q = q.where('customer_id', '=', filter.customerId);
      if (filter.flowId) q = q.where('flow_id', '=', filter.flowId);
      if (filter.depositId) q = q.where(sql<boolean>`deposit_ids @> ${JSON.stringify([filter.depositId])}::jsonb`);
      if (filter.createdFrom) q = q.where('created_at', '>=', filter.createdFrom);
      if (filter.createdTo) q = q.where('created_at', '<=', filter.createdTo);
      const [rows, count] = await Promise.all([
        q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.pageSize).offset(page.offset).execute(),
        q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { list: rows, total: Number(count.n), pageNum: page.pageNum, pageSize: page.pageSize }; // not money: a row count
    },

    detail,
  };
}

/** For payouts: one trade by id, locked until the caller's transaction ends. */
export async function lockTrade(tx: Transaction<DB>, tradeId: string): Promise<TradeRow | undefined> {
  return tx.selectFrom('trades').selectAll().where('id', '=', tradeId).forUpdate().executeTakeFirst();
}

/** For payouts: one trade by id. */
export async function findTrade(q: Kysely<DB>, tradeId: string): Promise<TradeRow | undefined> {
  return q.selectFrom('trades').selectAll().where('id', '=', tradeId).executeTakeFirst();
}

/** Jobs whose payload this module writes: `trade.settle` and `payout.create` (a settled trade is paid out). */
export function registerJobs(
  queue: Pick<JobQueue, 'register'>,
  deps: { trades: Pick<Trades, 'settle'>; payouts: { createForTrade(tradeId: string): Promise<unknown> } },
): void {
  queue.register(TRADE_SETTLE_JOB, async (p) => {
    await deps.trades.settle(String(p.tradeId));
  });
  queue.register(PAYOUT_CREATE_JOB, async (p) => {
    await deps.payouts.createForTrade(String(p.tradeId));
  });
}
