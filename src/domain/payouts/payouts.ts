import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Resealer } from '../../infra/keys/master-key.ts';
import { resealPages, resealValue } from '../../infra/db/sealed-columns.ts';
import type { FieldSealer } from '../../infra/db/sealed-columns.ts';
import type { Logger } from 'pino';
import type { DB, PayoutsTable } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import type { Outbox } from '../../infra/events/outbox.ts';
import { createTransition } from '../../infra/events/state-machine.ts';
import { ACCOUNTS, type Ledger } from '../ledger/ledger.ts';
import { AppError, invariantBroken, notFound, preconditionFailed } from '../../infra/lib/errors.ts';
import { ASSET_SCALE, formatDecimal, isFiatAsset, type FiatAsset } from '../../infra/lib/money.ts';
import type { CreatedRange, Page, PageResult } from '../../infra/lib/pagination.ts';
import { RAILS, chooseRail, schedule, type RailId } from '../../adapters/rails/rails.ts';
import type { Debtor } from '../../adapters/rails/formats/types.ts';
import { paginate } from '../../infra/db/paginate.ts';
import { creditorOf, findBankAccounts, type BankAccountRow } from '../bank-accounts/bank-accounts.ts';
import { paymentRefusal } from '../../adapters/rails/payment-file.ts';
import { lockTrade } from '../trades/trades.ts';
import { PAYOUT_MACHINE, PAYOUT_RELEASED_MONEY } from './state-machine.ts';
import { RETURN_CODES, returnCodeFamily } from './return-codes.ts';
import { createTreasury, type TreasuryLine } from './treasury.ts';
import { createBatcher } from './batcher.ts';
import { createSandboxBank } from './sandbox-bank.ts';

export { RETURN_CODES, returnCodeFamily } from './return-codes.ts';
export { INSUFFICIENT_TREASURY_FUNDS, SANDBOX_DEBTORS } from './treasury.ts';
export { fileReferences } from './sandbox-bank.ts';

/**
 * Payouts (docs/state-machines.md, docs/rails.md): `PENDING` → `SUBMITTED` → `SETTLED` |
 * `RETURNED` (moves in ./state-machine.ts). A settled trade gets one payout on the rail its
 * currency and amount call for, dated by the rail's calendar and cut-offs. The batcher
 * (./batcher.ts) puts payouts per rail and cut-off window into one payment file; a payout that
 * would overdraw the treasury (./treasury.ts) waits and goes out once funds arrive. One the
 * rail's file writer refuses is HELD out of its batch; the partner or an operator releases it
 * (to a corrected bank account) or an operator cancels it. A returned or cancelled payout puts
 * the money back as owed to the customer and can be retried — bounded — to a corrected bank
 * account. This file is the service the rest of the system calls.
 */
export type PayoutRow = Selectable<PayoutsTable>;

export const PAYOUT_ATTEMPTS_MAX = 3;

export interface PayoutsOptions {
  db: Kysely<DB>;
  ids: IdGenerator;
  clock: Clock;
  outbox: Outbox;
  ledger: Ledger;
  logger: Logger;
  /** Folder the bank connection picks files up from: <outboxDir>/<rail>/<file>. */
  outboxDir: string;
  debtors: Record<FiatAsset, Debtor>;
  /** Batches close this long before the rail's cut-off. */
  batchLeadMs: number;
  /** Sandbox: send every batch at once instead of waiting for the window to close. */
  batchImmediately: boolean;
  batchSizeMax: number;
  /** The stored copy of a payment file (names, IBANs, addresses) is sealed; reads open it. */
  sealer: Pick<FieldSealer, 'seal'>;
}

export interface Payouts {
  /** Job: the payout for a settled trade (once). */
  createForTrade(tradeId: string): Promise<PayoutRow>;
  /** Closes due batches: treasury check, payment file, SUBMITTED. Returns payouts submitted. */
  runBatcher(): Promise<number>;
  settle(payoutId: string): Promise<PayoutRow>;
  markReturned(payoutId: string, reasonCode: string): Promise<PayoutRow>;
  /**
   * Partner: a RETURNED or CANCELLED payout becomes a new attempt; a HELD one is released back to
   * PENDING — both optionally to another (corrected) bank account of the same customer.
   */
  retry(partnerId: string, payoutId: string, bankAccountId?: string): Promise<PayoutRow>;
  /** Operator: a HELD payout back to PENDING, optionally to another bank account of its customer. */
  release(payoutId: string, bankAccountId?: string): Promise<PayoutRow>;
  /** Operator: a HELD payout is not sent; its money is owed to the customer again (a new attempt can follow). */
  cancel(payoutId: string, reason: string): Promise<PayoutRow>;
  /** Operator: payouts of every partner, newest first, optionally in one state (HELD: the work queue). */
  listAll(page: Page, filter: { status?: PayoutRow['status'] | undefined; partnerId?: string | undefined }): Promise<PageResult<PayoutRow>>;
  fundTreasury(currency: FiatAsset, amountMinor: bigint, reference?: string): Promise<{ journalId: string; balance: bigint }>;
  treasury(): Promise<TreasuryLine[]>;
  get(partnerId: string, id: string): Promise<PayoutRow>;
  list(
    partnerId: string,
    page: Page,
    filter: {
      status?: PayoutRow['status'] | undefined;
      tradeId?: string | undefined;
      customerId?: string | undefined;
      rail?: string | undefined;
    } & CreatedRange,
  ): Promise<PageResult<PayoutRow>>;
  /** The sandbox bank: reads submitted files, settles payouts on their date (or at once). */
  runSandboxBank(opts: { settleImmediately: boolean }): Promise<{ filesRead: number; settled: number }>;
}

export function payoutDetail(p: PayoutRow) {
  const scale = ASSET_SCALE[p.currency as FiatAsset] ?? 2;
  return {
    id: p.id,
    tradeId: p.trade_id,
    customerId: p.customer_id,
    bankAccountId: p.bank_account_id,
    currency: p.currency,
    amount: formatDecimal(BigInt(p.amount), scale),
    rail: p.rail,
    status: p.status,
    waitReason: p.wait_reason,
    holdReason: p.hold_reason,
    heldAt: p.held_at ? p.held_at.toISOString() : null,
    cancelReason: p.cancel_reason,
    cancelledAt: p.cancelled_at ? p.cancelled_at.toISOString() : null,
    batchId: p.batch_id,
    executionDate: p.execution_date,
    expectedArrivalDate: p.expected_arrival_date,
    cutoffAt: p.cutoff_at ? p.cutoff_at.toISOString() : null,
    bankReference: p.bank_reference,
    returnCode: p.return_code,
    returnReason: p.return_reason,
    attempt: p.attempt,
    attemptsMax: PAYOUT_ATTEMPTS_MAX,
    previousPayoutId: p.previous_payout_id,
    createTime: p.created_at.toISOString(),
    submittedAt: p.submitted_at ? p.submitted_at.toISOString() : null,
    settledAt: p.settled_at ? p.settled_at.toISOString() : null,
    returnedAt: p.returned_at ? p.returned_at.toISOString() : null,
    updateTime: p.updated_at.toISOString(),
  };
}

/**
 * Invariant: a payout never exceeds what its trade settled minus what the trade's other payouts
 * still carry (a returned or cancelled payout carries nothing: its money is owed to the customer again).
 */
export function assertPayoutWithinTrade(x: {
  tradeId: string;
  settled: bigint;
  payouts: readonly { amount: bigint; status: PayoutRow['status'] }[];
  amount: bigint;
}): void {
  const carried = x.payouts.filter((p) => !PAYOUT_RELEASED_MONEY.includes(p.status)).reduce((s, p) => s + p.amount, 0n);
  if (x.amount <= 0n || x.amount > x.settled - carried)
    throw invariantBroken(`payout of ${x.amount} for trade ${x.tradeId} out of bounds: settled ${x.settled}, already paid out ${carried}`);
}

export function createPayouts(o: PayoutsOptions): Payouts {
  const { db, ids, clock, outbox, ledger } = o;

  const { transition } = createTransition(PAYOUT_MACHINE, {
    clock,
    events: { outbox, objectType: 'payout', payload: (_tx, p) => payoutDetail(p) },
  });
  const treasury = createTreasury({ db, ids, ledger });
  const batcher = createBatcher({ ...o, treasury, transition });

  function plan(currency: FiatAsset, amount: bigint) {
    const at = clock.now();
    const rail = chooseRail(currency, amount, at);
    // A payout created within the lead time of a cut-off belongs to the next window.
    const sched = schedule(rail, new Date(at.getTime() + o.batchLeadMs));
    return { rail, sched };
  }

  /** A new attempt for a settled trade (the caller holds the trade's lock), within the trade's bounds. */
  async function insertAttempt(
    tx: Transaction<DB>,
    x: {
      partnerId: string;
      customerId: string;
      trade: { id: string; to_amount: string };
      bankAccountId: string;
      attempt: number;
      previousPayoutId: string | null;
      currency: FiatAsset;
      amount: bigint;
    },
  ) {
    assertPayoutWithinTrade({
      tradeId: x.trade.id,
      settled: BigInt(x.trade.to_amount),
      payouts: (await payoutAttemptsOf(tx, x.trade.id)).map((p) => ({ amount: BigInt(p.amount), status: p.status })),
      amount: x.amount,
    });
    const { rail, sched } = plan(x.currency, x.amount);
    const now = clock.now();
    return tx
      .insertInto('payouts')
      .values({
        id: ids.next('payout'),
        partner_id: x.partnerId,
        customer_id: x.customerId,
        trade_id: x.trade.id,
        bank_account_id: x.bankAccountId,
        attempt: x.attempt,
        previous_payout_id: x.previousPayoutId,
        currency: x.currency,
        amount: x.amount.toString(),
        rail: rail.id,
        status: 'PENDING',
        wait_reason: null,
        hold_reason: null,
        held_at: null,
        cancel_reason: null,
        cancelled_at: null,
        execution_date: sched.executionDate,
        expected_arrival_date: sched.expectedArrivalDate,
        cutoff_at: sched.cutoffAt,
        batch_id: null,
        bank_reference: null,
        return_code: null,
        return_reason: null,
        version: 1,
        created_at: now,
        submitted_at: null,
        settled_at: null,
        returned_at: null,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async function settleInTx(tx: Transaction<DB>, p: PayoutRow): Promise<PayoutRow> {
    await ledger.post(tx, {
      kind: 'payout.settled',
      refId: p.id,
      memo: `${p.rail} settled`,
      entries: [
        { account: ACCOUNTS.payoutsInTransit(), asset: p.currency, amount: BigInt(p.amount) },
        { account: ACCOUNTS.bank(), asset: p.currency, amount: -BigInt(p.amount) },
      ],
    });
    const now = clock.now();
    return transition(tx, p, 'SETTLED', { settled_at: now, updated_at: now });
  }

  async function lockPayout(tx: Transaction<DB>, payoutId: string, partnerId?: string): Promise<PayoutRow> {
    let q = tx.selectFrom('payouts').selectAll().where('id', '=', payoutId);
    if (partnerId !== undefined) q = q.where('partner_id', '=', partnerId);
    const p = await q.forUpdate().executeTakeFirst();
    if (!p) throw notFound('payout', payoutId);
    return p;
  }

  /** The bank account a payout may go to: the payout's customer's, verified, in its currency. */
  async function payableAccount(tx: Transaction<DB>, p: PayoutRow, bankId: string): Promise<BankAccountRow> {
    const [bank] = await findBankAccounts(tx, [bankId], p.partner_id);
    if (!bank) throw notFound('bank account', bankId);
    if (bank.customer_id !== p.customer_id)
      throw new AppError('BANK_ACCOUNT_OF_ANOTHER_CUSTOMER', `bankAccountId: ${bankId} belongs to another customer`);
    if (bank.verification_status !== 'VERIFIED')
      throw new AppError('BANK_ACCOUNT_NOT_VERIFIED', `bankAccountId: ${bankId} is ${bank.verification_status}`);
    if (bank.currency !== p.currency)
      throw preconditionFailed(`bankAccountId: ${bankId} is a ${bank.currency} account; the payout is ${p.currency}`);
    return bank;
  }

  /**
   * HELD → PENDING on the rail and window it would get now. Refused, changing nothing, while the
   * rail's writer would still refuse it: a release must not just hold it again.
   */
  async function releaseInTx(tx: Transaction<DB>, p: PayoutRow, bankAccountId: string | undefined): Promise<PayoutRow> {
    const bank = await payableAccount(tx, p, bankAccountId ?? p.bank_account_id);
    const amount = BigInt(p.amount);
    const { rail, sched } = plan(p.currency as FiatAsset, amount);
    const now = clock.now();
    const refusal = paymentRefusal(rail, {
      debtor: o.debtors[rail.currency],
      creditor: creditorOf(bank),
      amountMinor: amount,
      executionDate: sched.executionDate,
      createdAt: now,
    });
    if (refusal !== null)
      throw preconditionFailed(`payout ${p.id} would be held again on ${rail.id}: ${refusal}; correct the bank account first`);
    return transition(tx, p, 'PENDING', {
      bank_account_id: bank.id,
      rail: rail.id,
      execution_date: sched.executionDate,
      expected_arrival_date: sched.expectedArrivalDate,
      cutoff_at: sched.cutoffAt,
      wait_reason: null,
      updated_at: now,
    });
  }

  const sandboxBank = createSandboxBank({ db, clock, logger: o.logger, settle: settleInTx });

  return {
    async createForTrade(tradeId) {
      return db.transaction().execute(async (tx) => {
        const existing = await tx
          .selectFrom('payouts')
          .selectAll()
          .where('trade_id', '=', tradeId)
          .where('attempt', '=', 1)
          .executeTakeFirst();
        if (existing) return existing;
        const t = await lockTrade(tx, tradeId);
        if (!t) throw notFound('trade', tradeId);
        if (t.status !== 'SETTLED') throw invariantBroken(`payout.create: trade ${tradeId} is ${t.status}`);
        if (!isFiatAsset(t.to_currency)) throw invariantBroken(`payout.create: ${t.to_currency} is not a payout currency`);
        return insertAttempt(tx, {
          partnerId: t.partner_id,
          customerId: t.customer_id,
          trade: t,
          bankAccountId: t.bank_account_id,
          attempt: 1,
          previousPayoutId: null,
          currency: t.to_currency,
          amount: BigInt(t.to_amount),
        });
      });
    },

    runBatcher: () => batcher.run(),

    async settle(payoutId) {
      return db.transaction().execute(async (tx) => {
        const p = await tx.selectFrom('payouts').selectAll().where('id', '=', payoutId).forUpdate().executeTakeFirst();
        if (!p) throw notFound('payout', payoutId);
        if (p.status === 'SETTLED') return p;
        if (p.status !== 'SUBMITTED') throw preconditionFailed(`payout ${payoutId} is ${p.status}; only SUBMITTED payouts settle`);
        return settleInTx(tx, p);
      });
    },

    async markReturned(payoutId, reasonCode) {
      return db.transaction().execute(async (tx) => {
        const p = await tx.selectFrom('payouts').selectAll().where('id', '=', payoutId).forUpdate().executeTakeFirst();
        if (!p) throw notFound('payout', payoutId);
        if (p.status !== 'SUBMITTED' && p.status !== 'SETTLED')
          throw preconditionFailed(`payout ${payoutId} is ${p.status}; only SUBMITTED or SETTLED payouts can be returned`);
        const rail = RAILS[p.rail as RailId];
        const family = returnCodeFamily(rail);
        const reason = RETURN_CODES[family][reasonCode];
        if (!reason)
          throw new AppError(
            'INVALID_PARAMETERS',
            `reasonCode: "${reasonCode}" is not a ${rail.id} return code (one of ${Object.keys(RETURN_CODES[family]).join(', ')})`,
          );
        // The money is owed to the customer again: back from transit, or back into the bank.
        const source = p.status === 'SUBMITTED' ? ACCOUNTS.payoutsInTransit() : ACCOUNTS.bank();
        await ledger.post(tx, {
          kind: 'payout.returned',
          refId: p.id,
          memo: `${reasonCode} ${reason}`,
          entries: [
            { account: source, asset: p.currency, amount: BigInt(p.amount) },
            { account: ACCOUNTS.customerFiat(p.partner_id, p.customer_id), asset: p.currency, amount: -BigInt(p.amount) },
          ],
        });
        const now = clock.now();
        return transition(tx, p, 'RETURNED', { return_code: reasonCode, return_reason: reason, returned_at: now, updated_at: now });
      });
    },

    async retry(partnerId, payoutId, bankAccountId) {
      return db.transaction().execute(async (tx) => {
        const p = await lockPayout(tx, payoutId, partnerId);
        if (p.status === 'HELD') return releaseInTx(tx, p, bankAccountId);
        if (!PAYOUT_RELEASED_MONEY.includes(p.status))
          throw preconditionFailed(`payout ${payoutId} is ${p.status}; only RETURNED, CANCELLED or HELD payouts can be retried`);
        const newer = await tx
          .selectFrom('payouts')
          .select('id')
          .where('trade_id', '=', p.trade_id)
          .where('attempt', '>', p.attempt)
          .executeTakeFirst();
        if (newer) throw preconditionFailed(`payout ${payoutId} was already retried as ${newer.id}`);
        if (p.attempt >= PAYOUT_ATTEMPTS_MAX)
          throw preconditionFailed(`payout for trade ${p.trade_id} has used all ${PAYOUT_ATTEMPTS_MAX} attempts; contact support`);
        const bank = await payableAccount(tx, p, bankAccountId ?? p.bank_account_id);
        const trade = await lockTrade(tx, p.trade_id);
        if (!trade) throw invariantBroken(`payout ${p.id}: trade ${p.trade_id} does not exist`);
        return insertAttempt(tx, {
          partnerId,
          customerId: p.customer_id,
          trade,
          bankAccountId: bank.id,
          attempt: p.attempt + 1,
          previousPayoutId: p.id,
          currency: p.currency as FiatAsset,
          amount: BigInt(p.amount),
        });
      });
    },

    async release(payoutId, bankAccountId) {
      return db.transaction().execute(async (tx) => {
        const p = await lockPayout(tx, payoutId);
        if (p.status !== 'HELD') throw preconditionFailed(`payout ${payoutId} is ${p.status}; only HELD payouts can be released`);
        return releaseInTx(tx, p, bankAccountId);
      });
    },

    async cancel(payoutId, reason) {
      return db.transaction().execute(async (tx) => {
        const p = await lockPayout(tx, payoutId);
        if (p.status !== 'HELD') throw preconditionFailed(`payout ${payoutId} is ${p.status}; only HELD payouts can be cancelled`);
        // Nothing was sent and nothing left the customer's fiat account: no journal to post.
        const now = clock.now();
        return transition(tx, p, 'CANCELLED', { cancel_reason: reason, cancelled_at: now, updated_at: now });
      });
    },

    async listAll(page, filter) {
      let q = db.selectFrom('payouts');
      if (filter.status) q = q.where('status', '=', filter.status);
      if (filter.partnerId) q = q.where('partner_id', '=', filter.partnerId);
      return paginate<PayoutRow>(q, page);
    },

    fundTreasury: (currency, amountMinor, reference) => treasury.fund(currency, amountMinor, reference),
    treasury: () => treasury.summary(),

    async get(partnerId, id) {
      const row = await db.selectFrom('payouts').selectAll().where('id', '=', id).where('partner_id', '=', partnerId).executeTakeFirst();
      if (!row) throw notFound('payout', id);
      return row;
    },

    async list(partnerId, page, filter) {
      let q = db.selectFrom('payouts').where('partner_id', '=', partnerId);
      if (filter.status) q = q.where('status', '=', filter.status);
      if (filter.tradeId) q = q.where('trade_id', '=', filter.tradeId);
      if (filter.customerId) q = q.where('customer_id', '=', filter.customerId);
      if (filter.rail) q = q.where('rail', '=', filter.rail);
      if (filter.createdFrom) q = q.where('created_at', '>=', filter.createdFrom);
      if (filter.createdTo) q = q.where('created_at', '<=', filter.createdTo);
      return paginate<PayoutRow>(q, page);
    },

    runSandboxBank: (opts) => sandboxBank.run(opts),
  };
}

/** For trades (and the invariant above): a trade's payout attempts, in order. */
export async function payoutAttemptsOf(q: Kysely<DB>, tradeId: string): Promise<PayoutRow[]> {
  return q.selectFrom('payouts').selectAll().where('trade_id', '=', tradeId).orderBy('attempt').execute();
}

/** The payment files sent to the banks, for the operator API. */
export interface PayoutBatchFiles {
  /** The newest batches (up to 200), without their file contents. */
  list(): Promise<
    Pick<
      Selectable<DB['payout_batches']>,
      'id' | 'rail' | 'currency' | 'execution_date' | 'file_name' | 'file_format' | 'control_sum' | 'payout_count' | 'status' | 'created_at'
    >[]
  >;
  /** One batch's payment file; throws not found for an unknown id. */
  file(batchId: string): Promise<{ fileName: string; fileFormat: string; content: string }>;
}

export function createPayoutBatchFiles(db: Kysely<DB>): PayoutBatchFiles {
  return {
    list: () =>
      db
        .selectFrom('payout_batches')
        .select([
          'id',
          'rail',
          'currency',
          'execution_date',
          'file_name',
          'file_format',
          'control_sum',
          'payout_count',
          'status',
          'created_at',
        ])
        .orderBy('created_at', 'desc')
        .limit(200)
        .execute(),
    async file(batchId) {
      const b = await db
        .selectFrom('payout_batches')
        .select(['file_name', 'file_content', 'file_format'])
        .where('id', '=', batchId)
        .executeTakeFirst();
      if (!b) throw notFound('payout batch', batchId);
      return { fileName: b.file_name, fileFormat: b.file_format, content: b.file_content };
    },
  };
}

/** Master-key rotation: re-seals the stored copy of every payment file. */
export const resealPayoutBatches: Resealer = (tx, { from, to }) =>
  resealPages(
    (after, size) => {
      let q = tx.selectFrom('payout_batches').select(['id', 'file_content']).orderBy('id').limit(size);
      if (after !== null) q = q.where('id', '>', String(after));
      return q.execute();
    },
    async (r) => {
      await tx
        .updateTable('payout_batches')
        .set({ file_content: resealValue(r.file_content, from.sealer, to.sealer)! })
        .where('id', '=', r.id)
        .execute();
    },
  );
