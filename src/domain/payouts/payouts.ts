import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { DB, PayoutsTable, BankAccountsTable } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import type { Outbox } from '../../infra/events/outbox.ts';
import { ACCOUNTS, type Ledger } from '../ledger/ledger.ts';
import { AppError, notFound, preconditionFailed } from '../../infra/lib/errors.ts';
import { ASSET_SCALE, formatDecimal, isFiatAsset, type FiatAsset } from '../../infra/lib/money.ts';
import type { Page, PageResult } from '../../infra/lib/pagination.ts';
import { RAILS, chooseRail, localDate, schedule, type RailId, type RailSpec } from '../../adapters/rails/rails.ts';
import { buildAba, buildCpa005, buildNacha, buildPain001 } from '../../adapters/rails/formats/index.ts';
import type { Creditor, Debtor, FileBatch, PaymentFile } from '../../adapters/rails/formats/types.ts';
import { parseAba, parseCpa005, parseNacha, parsePain001 } from '../../adapters/rails/formats/readers/index.ts';
import { paginate } from '../../infra/db/paginate.ts';

/**
 * Payouts (docs/state-machines.md, docs/rails.md): `PENDING` → `SUBMITTED` → `SETTLED` | `RETURNED`. A settled trade gets
 * one payout on the rail its currency and amount call for, dated by the rail's calendar and
 * cut-offs. Payouts are batched per rail and cut-off window into one payment file (kept in the
 * database and written to the outbox folder for the bank connection). A payout that would
 * overdraw the treasury waits (INSUFFICIENT_TREASURY_FUNDS) and goes out once funds arrive. A
 * returned payout puts the money back as owed to the customer and can be retried — bounded —
 * to a corrected bank account.
 */
export type PayoutRow = Selectable<PayoutsTable>;

export const PAYOUT_ATTEMPTS_MAX = 3;
export const INSUFFICIENT_TREASURY_FUNDS = 'INSUFFICIENT_TREASURY_FUNDS';

/** Rail return reason codes the sandbox bank (and the API) accept, by file family. */
export const RETURN_CODES: Record<'iso' | 'ach' | 'becs', Record<string, string>> = {
  iso: {
    AC01: 'Incorrect account number',
    AC04: 'Closed account number',
    AC06: 'Blocked account',
    AG01: 'Transaction forbidden on this account',
    AM05: 'Duplication',
    BE04: 'Missing creditor address',
    MD07: 'End customer deceased',
    MS02: 'Not specified reason (customer)',
    MS03: 'Not specified reason (agent)',
    RC01: 'Bank identifier incorrect',
  },
  ach: {
    R01: 'Insufficient funds',
    R02: 'Account closed',
    R03: 'No account / unable to locate account',
    R04: 'Invalid account number structure',
    R06: 'Returned per ODFI request',
    R16: 'Account frozen',
    R20: 'Non-transaction account',
    R23: 'Credit entry refused by receiver',
  },
  becs: {
    '1': 'Invalid BSB number',
    '2': 'Payment stopped',
    '3': 'Account closed',
    '4': 'Customer deceased',
    '5': 'No account / incorrect account number',
    '6': 'Refer to customer',
    '9': 'Technically invalid',
  },
};

export function returnCodeFamily(rail: RailSpec): 'iso' | 'ach' | 'becs' {
  if (rail.fileFormat === 'nacha') return 'ach';
  if (rail.fileFormat === 'aba') return 'becs';
  return 'iso';
}

/** The treasury accounts payouts are sent from. Sandbox defaults; production sets its own. */
export const SANDBOX_DEBTORS: Record<FiatAsset, Debtor> = (() => {
  const base: Debtor = {
    name: 'OpenRamp Payouts Ltd',
    iban: null,
    bic: null,
    accountNo: '532013000',
    achImmediateOrigin: '1234567890',
    achCompanyId: '1234567890',
    achOdfiRouting: '021000021',
    achImmediateDestinationName: 'JPMorgan Chase',
    cpaOriginatorId: '0123456789',
    cpaDestinationDataCentre: '00310',
    cpaInstitution: '001',
    cpaTransit: '12345',
    abaUserName: 'OpenRamp Pty Ltd',
    abaApcaNumber: '301500',
    abaBsb: '062-000',
    abaFinancialInstitution: 'CBA',
  };
  return {
    EUR: { ...base, iban: 'DE89370400440532013000', bic: 'COBADEFFXXX' },
    GBP: { ...base, iban: 'GB29NWBK60161331926819', bic: 'NWBKGB2L' },
    SGD: { ...base, bic: 'DBSSSGSGXXX', accountNo: '0720123456' },
    USD: { ...base, iban: 'DE89370400440532013000', bic: 'CHASUS33XXX' },
    CAD: base,
    AUD: base,
  };
})();

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
}

export interface Payouts {
  /** Job: the payout for a settled trade (once). */
  createForTrade(tradeId: string): Promise<PayoutRow>;
  /** Closes due batches: treasury check, payment file, SUBMITTED. Returns payouts submitted. */
  runBatcher(): Promise<number>;
  settle(payoutId: string): Promise<PayoutRow>;
  markReturned(payoutId: string, reasonCode: string): Promise<PayoutRow>;
  retry(partnerId: string, payoutId: string, bankAccountId?: string): Promise<PayoutRow>;
  fundTreasury(currency: FiatAsset, amountMinor: bigint, reference?: string): Promise<{ journalId: string; balance: bigint }>;
  treasury(): Promise<{ currency: string; bank: string; inTransit: string; available: string; waiting: number }[]>;
  get(partnerId: string, id: string): Promise<PayoutRow>;
  list(
    partnerId: string,
    page: Page,
    filter: { status?: PayoutRow['status']; tradeId?: string; customerId?: string },
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

function creditorOf(b: Selectable<BankAccountsTable>): Creditor {
  return {
    name: b.account_name,
    bankName: b.bank_name,
    accountNo: b.account_no,
    iban: b.iban,
    bic: b.swift,
    aba: b.aba,
    sortCode: b.sort_code,
    bsb: b.bsb,
    institutionNumber: b.institution_number,
    transit: b.transit,
    country: b.bank_country,
    address: b.beneficiary_address,
  };
}

function buildFile(rail: RailSpec, batch: FileBatch, sequence: number): PaymentFile {
  switch (rail.id as RailId) {
    case 'SEPA_INSTANT':
      return buildPain001({ ...batch, instant: true }, { serviceLevel: 'SEPA', localInstrument: 'INST' });
    case 'SEPA_CT':
      return buildPain001(batch, { serviceLevel: 'SEPA' });
    case 'FPS':
    case 'FAST':
      return buildPain001(batch, { serviceLevel: 'NURG' });
    case 'CHAPS':
    case 'MEPS':
    case 'WIRE':
      return buildPain001(batch, { serviceLevel: 'URGP' });
    case 'ACH':
      return buildNacha({ ...batch, fileIdModifier: String.fromCharCode(65 + (sequence % 26)) }, { secCode: 'PPD' });
    case 'ACH_SAME_DAY':
      return buildNacha({ ...batch, sameDay: true, fileIdModifier: String.fromCharCode(65 + (sequence % 26)) }, { secCode: 'PPD' });
    case 'EFT':
      return buildCpa005(batch, { fileCreationNumber: (sequence % 9999) + 1 });
    case 'NPP':
    case 'BECS':
      return buildAba(batch);
  }
}

/** The per-payout references a bank file carries, read back with the independent parsers. */
export function fileReferences(format: string, content: string): string[] {
  switch (format) {
    case 'pain001':
      return parsePain001(content).paymentInfos.flatMap((p) => p.transactions.map((t) => t.endToEndId));
    case 'nacha':
      return parseNacha(content).batches.flatMap((b) => b.entries.map((e) => e.traceNumber));
    case 'cpa005':
      return parseCpa005(content).transactions.map((t) => t.crossReference);
    case 'aba':
      return parseAba(content)
        .details.filter((d) => d.transactionCode !== '13')
        .map((d) => d.lodgementReference);
    default:
      throw new AppError('INTERNAL', `unknown file format ${format}`);
  }
}

export function createPayouts(o: PayoutsOptions): Payouts {
  const { db, ids, clock, outbox, ledger } = o;

  async function emit(tx: Transaction<DB>, p: PayoutRow, type: 'PAYOUT_SUBMITTED' | 'PAYOUT_SETTLED' | 'PAYOUT_RETURNED') {
    await outbox.append(tx, {
      partnerId: p.partner_id,
      type,
      objectType: 'payout',
      objectId: p.id,
      objectVersion: p.version,
      payload: payoutDetail(p),
    });
  }

  function plan(currency: FiatAsset, amount: bigint) {
    const at = clock.now();
    const rail = chooseRail(currency, amount, at);
    // A payout created within the lead time of a cut-off belongs to the next window.
    const sched = schedule(rail, new Date(at.getTime() + o.batchLeadMs));
    return { rail, sched };
  }

  async function available(tx: Kysely<DB>, currency: string): Promise<bigint> {
    const bank = await ledger.balance(ACCOUNTS.bank(), currency, tx);
    const inTransit = -(await ledger.balance(ACCOUNTS.payoutsInTransit(), currency, tx));
    return bank - inTransit;
  }

  async function insertAttempt(
    tx: Transaction<DB>,
    x: {
      partnerId: string;
      customerId: string;
      tradeId: string;
      bankAccountId: string;
      attempt: number;
      previousPayoutId: string | null;
      currency: FiatAsset;
      amount: bigint;
    },
  ) {
    const { rail, sched } = plan(x.currency, x.amount);
    const now = clock.now();
    return tx
      .insertInto('payouts')
      .values({
        id: ids.next('payout'),
        partner_id: x.partnerId,
        customer_id: x.customerId,
        trade_id: x.tradeId,
        bank_account_id: x.bankAccountId,
        attempt: x.attempt,
        previous_payout_id: x.previousPayoutId,
        currency: x.currency,
        amount: x.amount.toString(),
        rail: rail.id,
        status: 'PENDING',
        wait_reason: null,
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

  async function submitGroup(
    rail: RailSpec,
    executionDate: string,
    payoutIds: string[],
  ): Promise<{ submitted: number; file: { dir: string; name: string; content: string } | null }> {
    return db.transaction().execute(async (tx) => {
      const rows = await tx
        .selectFrom('payouts')
        .selectAll()
        .where('id', 'in', payoutIds)
        .where('status', '=', 'PENDING')
        .orderBy('created_at')
        .orderBy('id')
        .forUpdate()
        .skipLocked()
        .execute();
      if (rows.length === 0) return { submitted: 0, file: null };
      let avail = await available(tx, rail.currency);
      const go: PayoutRow[] = [];
      for (const p of rows) {
        const amount = BigInt(p.amount);
        if (amount <= avail) {
          avail -= amount;
          go.push(p);
        } else if (p.wait_reason !== INSUFFICIENT_TREASURY_FUNDS) {
          await tx
            .updateTable('payouts')
            .set({ wait_reason: INSUFFICIENT_TREASURY_FUNDS, updated_at: clock.now() })
            .where('id', '=', p.id)
            .execute();
        }
      }
      if (go.length === 0) return { submitted: 0, file: null };
      const banks = await tx
        .selectFrom('bank_accounts')
        .selectAll()
        .where('id', 'in', [...new Set(go.map((p) => p.bank_account_id))])
        .execute();
      const bankById = new Map(banks.map((b) => [b.id, b]));
      const seq = Number((await sql<{ n: string }>`select nextval('payout_file_sequence')::text as n`.execute(tx)).rows[0]!.n); // not money: a file sequence number
      const batchId = ids.next('payoutBatch');
      const now = clock.now();
      const file = buildFile(
        rail,
        {
          batchId,
          createdAt: now,
          executionDate,
          debtor: o.debtors[rail.currency],
          instructions: go.map((p) => ({
            payoutId: p.id,
            endToEndId: p.id,
            amountMinor: BigInt(p.amount),
            currency: rail.currency,
            creditor: creditorOf(bankById.get(p.bank_account_id)!),
            remittance: `OpenRamp payout ${p.id}`,
          })),
        },
        seq,
      );
      await tx
        .insertInto('payout_batches')
        .values({
          id: batchId,
          rail: rail.id,
          currency: rail.currency,
          execution_date: executionDate,
          file_format: rail.fileFormat,
          file_name: file.filename,
          file_content: file.content,
          control_sum: file.controlSumMinor.toString(),
          payout_count: file.count,
          file_sequence: seq,
          status: 'SUBMITTED',
          created_at: now,
          acknowledged_at: null,
        })
        .execute();
      const refs = new Map(file.references.map((r) => [r.payoutId, r.reference]));
      for (const p of go) {
        const updated = await tx
          .updateTable('payouts')
          .set({
            status: 'SUBMITTED',
            wait_reason: null,
            batch_id: batchId,
            bank_reference: refs.get(p.id) ?? null,
            submitted_at: now,
            updated_at: now,
            version: p.version + 1,
          })
          .where('id', '=', p.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await ledger.post(tx, {
          kind: 'payout.submitted',
          refId: p.id,
          memo: `${rail.id} batch ${batchId}`,
          entries: [
            { account: ACCOUNTS.customerFiat(p.partner_id, p.customer_id), asset: p.currency, amount: BigInt(p.amount) },
            { account: ACCOUNTS.payoutsInTransit(), asset: p.currency, amount: -BigInt(p.amount) },
          ],
        });
        await emit(tx, updated, 'PAYOUT_SUBMITTED');
      }
      return { submitted: go.length, file: { dir: path.join(o.outboxDir, rail.id), name: file.filename, content: file.content } };
    });
  }

  async function settleInTx(tx: Transaction<DB>, p: PayoutRow): Promise<PayoutRow> {
    const now = clock.now();
    const updated = await tx
      .updateTable('payouts')
      .set({ status: 'SETTLED', settled_at: now, updated_at: now, version: p.version + 1 })
      .where('id', '=', p.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await ledger.post(tx, {
      kind: 'payout.settled',
      refId: p.id,
      memo: `${p.rail} settled`,
      entries: [
        { account: ACCOUNTS.payoutsInTransit(), asset: p.currency, amount: BigInt(p.amount) },
        { account: ACCOUNTS.bank(), asset: p.currency, amount: -BigInt(p.amount) },
      ],
    });
    await emit(tx, updated, 'PAYOUT_SETTLED');
    return updated;
  }

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
        const t = await tx.selectFrom('trades').selectAll().where('id', '=', tradeId).forUpdate().executeTakeFirst();
        if (!t) throw notFound('trade', tradeId);
        if (t.status !== 'SETTLED') throw new AppError('INTERNAL', `payout.create: trade ${tradeId} is ${t.status}`);
        if (!isFiatAsset(t.to_currency)) throw new AppError('INTERNAL', `payout.create: ${t.to_currency} is not a payout currency`);
        const amount = BigInt(t.to_amount);
        // Invariant: a payout never exceeds what its trade settled.
        if (amount <= 0n || amount > BigInt(t.to_amount)) throw new AppError('INTERNAL', `payout for ${tradeId} out of bounds`);
        return insertAttempt(tx, {
          partnerId: t.partner_id,
          customerId: t.customer_id,
          tradeId,
          bankAccountId: t.bank_account_id,
          attempt: 1,
          previousPayoutId: null,
          currency: t.to_currency,
          amount,
        });
      });
    },

    async runBatcher() {
      const now = clock.now();
      const pending = await db
        .selectFrom('payouts')
        .selectAll()
        .where('status', '=', 'PENDING')
        .orderBy('created_at')
        .limit(o.batchSizeMax)
        .execute();
      const groups = new Map<string, { rail: RailSpec; date: string; ids: string[] }>();
      for (const p of pending) {
        const rail = RAILS[p.rail as RailId];
        if (!rail) continue;
        if (p.cutoff_at && p.cutoff_at.getTime() <= now.getTime()) {
          // Its window closed while it waited (e.g. for treasury funds): move to the next one.
          const sched = schedule(rail, new Date(now.getTime() + o.batchLeadMs));
          await db
            .updateTable('payouts')
            .set({
              execution_date: sched.executionDate,
              expected_arrival_date: sched.expectedArrivalDate,
              cutoff_at: sched.cutoffAt,
              updated_at: now,
            })
            .where('id', '=', p.id)
            .where('status', '=', 'PENDING')
            .execute();
          if (!o.batchImmediately) continue;
          p.execution_date = sched.executionDate;
        }
        const due = o.batchImmediately || rail.alwaysOn || p.cutoff_at === null || now.getTime() >= p.cutoff_at.getTime() - o.batchLeadMs;
        if (!due) continue;
        const key = `${rail.id}|${p.execution_date}`;
        const g = groups.get(key) ?? { rail, date: p.execution_date, ids: [] };
        g.ids.push(p.id);
        groups.set(key, g);
      }
      let submitted = 0;
      for (const g of groups.values()) {
        const r = await submitGroup(g.rail, g.date, g.ids);
        submitted += r.submitted;
        if (r.file) {
          // After commit: the file is safe in the database; the folder copy is for the bank link.
          try {
            mkdirSync(r.file.dir, { recursive: true });
            writeFileSync(path.join(r.file.dir, r.file.name), r.file.content);
          } catch (err) {
            o.logger.error({ err, file: r.file.name }, 'could not write payment file to the outbox folder (kept in the database)');
          }
        }
      }
      return submitted;
    },

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
        const now = clock.now();
        const updated = await tx
          .updateTable('payouts')
          .set({
            status: 'RETURNED',
            return_code: reasonCode,
            return_reason: reason,
            returned_at: now,
            updated_at: now,
            version: p.version + 1,
          })
          .where('id', '=', p.id)
          .returningAll()
          .executeTakeFirstOrThrow();
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
        await emit(tx, updated, 'PAYOUT_RETURNED');
        return updated;
      });
    },

    async retry(partnerId, payoutId, bankAccountId) {
      return db.transaction().execute(async (tx) => {
        const p = await tx
          .selectFrom('payouts')
          .selectAll()
          .where('id', '=', payoutId)
          .where('partner_id', '=', partnerId)
          .forUpdate()
          .executeTakeFirst();
        if (!p) throw notFound('payout', payoutId);
        if (p.status !== 'RETURNED') throw preconditionFailed(`payout ${payoutId} is ${p.status}; only RETURNED payouts can be retried`);
        const newer = await tx
          .selectFrom('payouts')
          .select('id')
          .where('trade_id', '=', p.trade_id)
          .where('attempt', '>', p.attempt)
          .executeTakeFirst();
        if (newer) throw preconditionFailed(`payout ${payoutId} was already retried as ${newer.id}`);
        if (p.attempt >= PAYOUT_ATTEMPTS_MAX)
          throw preconditionFailed(`payout for trade ${p.trade_id} has used all ${PAYOUT_ATTEMPTS_MAX} attempts; contact support`);
        const bankId = bankAccountId ?? p.bank_account_id;
        const bank = await tx
          .selectFrom('bank_accounts')
          .selectAll()
          .where('id', '=', bankId)
          .where('partner_id', '=', partnerId)
          .executeTakeFirst();
        if (!bank) throw notFound('bank account', bankId);
        if (bank.customer_id !== p.customer_id) throw preconditionFailed(`bankAccountId: ${bankId} belongs to another customer`);
        if (bank.verification_status !== 'VERIFIED') throw preconditionFailed(`bankAccountId: ${bankId} is ${bank.verification_status}`);
        if (bank.currency !== p.currency)
          throw preconditionFailed(`bankAccountId: ${bankId} is a ${bank.currency} account; the payout is ${p.currency}`);
        return insertAttempt(tx, {
          partnerId,
          customerId: p.customer_id,
          tradeId: p.trade_id,
          bankAccountId: bankId,
          attempt: p.attempt + 1,
          previousPayoutId: p.id,
          currency: p.currency as FiatAsset,
          amount: BigInt(p.amount),
        });
      });
    },

    async fundTreasury(currency, amountMinor, reference) {
      if (amountMinor <= 0n) throw new AppError('INVALID_PARAMETERS', 'amount: must be positive');
      const ref = reference ?? ids.next('treasuryFunding');
      const journalId = await db.transaction().execute((tx) =>
        ledger.post(tx, {
          kind: 'treasury.funded',
          refId: ref,
          memo: `treasury funded ${currency}`,
          entries: [
            { account: ACCOUNTS.bank(), asset: currency, amount: amountMinor },
            { account: ACCOUNTS.treasuryFunding(), asset: currency, amount: -amountMinor },
          ],
        }),
      );
      return { journalId, balance: await ledger.balance(ACCOUNTS.bank(), currency) };
    },

    async treasury() {
      const out = [];
      for (const currency of ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'SGD'] as const) {
        const bank = await ledger.balance(ACCOUNTS.bank(), currency);
        const inTransit = -(await ledger.balance(ACCOUNTS.payoutsInTransit(), currency));
        const waiting = await db
          .selectFrom('payouts')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('currency', '=', currency)
          .where('wait_reason', '=', INSUFFICIENT_TREASURY_FUNDS)
          .where('status', '=', 'PENDING')
          .executeTakeFirstOrThrow();
        const s = ASSET_SCALE[currency];
        out.push({
          currency,
          bank: formatDecimal(bank, s),
          inTransit: formatDecimal(inTransit, s),
          available: formatDecimal(bank - inTransit, s),
          waiting: Number(waiting.n), // not money: a count of payouts
        });
      }
      return out;
    },

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
      return paginate<PayoutRow>(q, page);
    },

    async runSandboxBank({ settleImmediately }) {
      let filesRead = 0;
      const batches = await db
        .selectFrom('payout_batches')
        .selectAll()
        .where('status', '=', 'SUBMITTED')
        .orderBy('created_at')
        .limit(100)
        .execute();
      for (const b of batches) {
        // The sandbox bank reads the file as a bank would; a file it cannot read stays unacknowledged.
        try {
          const refs = fileReferences(b.file_format, b.file_content);
          if (refs.length !== b.payout_count) throw new Error(`file has ${refs.length} payments, batch says ${b.payout_count}`);
        } catch (err) {
          o.logger.error({ err, batchId: b.id }, 'sandbox bank could not read a payment file');
          continue;
        }
        await db
          .updateTable('payout_batches')
          .set({ status: 'ACKNOWLEDGED', acknowledged_at: clock.now() })
          .where('id', '=', b.id)
          .execute();
        filesRead++;
      }
      const submitted = await db
        .selectFrom('payouts')
        .innerJoin('payout_batches', 'payout_batches.id', 'payouts.batch_id')
        .select(['payouts.id', 'payouts.rail', 'payouts.expected_arrival_date'])
        .where('payouts.status', '=', 'SUBMITTED')
        .where('payout_batches.status', '=', 'ACKNOWLEDGED')
        .limit(1000)
        .execute();
      let settled = 0;
      for (const p of submitted) {
        const rail = RAILS[p.rail as RailId];
        const today = localDate(clock.now(), rail.timeZone);
        if (!settleImmediately && today < p.expected_arrival_date) continue;
        await db.transaction().execute(async (tx) => {
          const row = await tx.selectFrom('payouts').selectAll().where('id', '=', p.id).forUpdate().executeTakeFirstOrThrow();
          if (row.status !== 'SUBMITTED') return;
          await settleInTx(tx, row);
          settled++;
        });
      }
      return { filesRead, settled };
    },
  };
}
