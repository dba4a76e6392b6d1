import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { Resealer } from '../../infra/keys/master-key.ts';
import { resealPages, resealValue } from '../../infra/db/sealed-columns.ts';
import type { DB, BankAccountsTable } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import type { FieldSealer } from '../../infra/db/sealed-columns.ts';
import type { Outbox } from '../../infra/events/outbox.ts';
import { AppError, notFound, preconditionFailed } from '../../infra/lib/errors.ts';
import type { CreatedRange, Page, PageResult } from '../../infra/lib/pagination.ts';
import type { FiatAsset } from '../../infra/lib/money.ts';
import { validateBankAccountInput, type BankAccountInput } from './validation/index.ts';
import type { PayeeVerifier } from './payee-verification.ts';
import { paginate } from '../../infra/db/paginate.ts';
import type { Customers } from '../customers/customers.ts';
import type { Creditor, Debtor } from '../../adapters/rails/formats/types.ts';
import { creditorRefusals } from '../../adapters/rails/payment-file.ts';

/**
 * Bank accounts: validated per currency and rail (validation/), then payee-verified against
 * the customer's name, which sets `verificationStatus` and writes BANK_ACCOUNT_VERIFIED or
 * BANK_ACCOUNT_REJECTED in the same transaction as the insert.
 */
export type BankAccountRow = Selectable<BankAccountsTable>;

export interface BankAccounts {
  add(partnerId: string, input: BankAccountInput & { customerId: string; statementFileName?: string | null }): Promise<BankAccountRow>;
  get(partnerId: string, id: string, customerId?: string): Promise<BankAccountRow>;
  list(
    partnerId: string,
    page: Page,
    filter: { customerId?: string | undefined; currency?: FiatAsset | undefined } & CreatedRange,
  ): Promise<PageResult<BankAccountRow>>;
}

/** The contract's `BankAccountDetailDto` plus our fields (verification, rail identifiers). */
export function bankAccountDetail(b: BankAccountRow) {
  return {
    id: b.id,
    customerId: b.customer_id,
    currency: b.currency,
    bankName: b.bank_name,
    accountNo: b.account_no,
    accountName: b.account_name,
    ...(b.swift ? { swift: b.swift } : {}),
    iban: b.iban,
    aba: b.aba,
    sortCode: b.sort_code,
    bsb: b.bsb,
    institutionNumber: b.institution_number,
    transit: b.transit,
    bankCountry: b.bank_country,
    bankAddress: b.bank_address,
    beneficiaryAddress: b.beneficiary_address,
    label: b.label,
    verificationStatus: b.verification_status,
    verificationReason: b.verification_reason,
    createTime: b.created_at.toISOString(),
    updateTime: b.updated_at.toISOString(),
  };
}

/**
 * What a bank-account event carries (these events are ours, not the contract's): the detail with
 * account identifiers reduced to their last four characters and no holder name or addresses, so
 * a webhook receiver's logs never hold a full account. The full detail is one signed GET away.
 */
export function bankAccountEventPayload(b: BankAccountRow) {
  const { accountName: _name, bankAddress: _bank, beneficiaryAddress: _beneficiary, ...rest } = bankAccountDetail(b);
  return { ...rest, accountNo: maskAccount(b.account_no), iban: b.iban === null ? null : maskAccount(b.iban) };
}

/** "DE89370400440532013000" → "••••3000": enough to recognise an account, not to pay into it. */
export function maskAccount(value: string): string {
  return value.length <= 4 ? '••••' : `••••${value.slice(-4)}`;
}

export function createBankAccounts(deps: {
  db: Kysely<DB>;
  ids: IdGenerator;
  clock: Clock;
  outbox: Outbox;
  payeeVerifier: PayeeVerifier;
  customers: Pick<Customers, 'lock'>;
  /** The accounts payouts are sent from: the entry check builds a payment file with them. */
  debtors: Record<FiatAsset, Debtor>;
  /** Seals account numbers, IBANs, holder names and addresses; reads open them. */
  sealer: Pick<FieldSealer, 'seal' | 'sealNullable'>;
}): BankAccounts {
  const { db, ids, clock, outbox, sealer } = deps;
  return {
    async add(partnerId, input) {
      const v = validateBankAccountInput(input);
      if (!v.ok) throw new AppError('INVALID_PARAMETERS', v.message);
      const a = v.value;
      return db.transaction().execute(async (tx) => {
        // Shared lock: the customer cannot be rejected or deleted while its account is added.
        const customer = await deps.customers.lock(tx, partnerId, input.customerId, 'share');
        if (customer.status === 'REJECTED' || customer.status === 'DELETED') {
          throw preconditionFailed(
            `customer ${customer.id} is ${customer.status}; bank accounts can only be added for PENDING or CONFIRMED customers`,
          );
        }
        // No holder name given: the account is registered as the customer's own.
        const accountName = a.accountName ?? customer.name;
        const match = deps.payeeVerifier.verify({ customerName: customer.name, accountName, isIndividual: customer.is_individual });
        const verified = match !== 'NO_MATCH';
        const now = clock.now();
        const values = {
          id: ids.next('bankAccount'),
          partner_id: partnerId,
          customer_id: customer.id,
          currency: a.currency,
          bank_name: a.bankName,
          account_no: a.accountNo,
          account_name: accountName,
          swift: a.swift,
          iban: a.iban,
          aba: a.aba,
          sort_code: a.sortCode,
          bsb: a.bsb,
          institution_number: a.institutionNumber,
          transit: a.transit,
          bank_country: a.bankCountry,
          bank_address: a.bankAddress,
          beneficiary_address: a.beneficiaryAddress,
          label: a.label,
          inter_bank_name: a.interBankName,
          inter_bank_bic: a.interBankBic,
          inter_bank_account_no: a.interBankAccountNo,
          statement_file_name: input.statementFileName ?? null,
          verification_status: verified ? 'VERIFIED' : 'REJECTED',
          verification_reason: verified
            ? match
            : `NAME_MISMATCH: account holder "${accountName}" does not match customer "${customer.name}"`,
          version: 1,
          created_at: now,
          updated_at: now,
        } satisfies Insertable<BankAccountsTable>;
        // An account no payment file of its currency would carry is refused here, with the
        // writer's reason, rather than accepted and found out when its payout is batched.
        const refusals = creditorRefusals(a.currency, deps.debtors[a.currency], creditorOf(values), now);
        if (refusals.length > 0)
          throw new AppError(
            'INVALID_PARAMETERS',
            `this account cannot be paid: ${refusals.map((r) => `${r.rail}: ${r.reason}`).join('; ')}`,
          );
        const sealed = {
          ...values,
          account_no: sealer.seal(values.account_no),
          account_name: sealer.seal(values.account_name),
          iban: sealer.sealNullable(values.iban),
          bank_address: sealer.sealNullable(values.bank_address),
          beneficiary_address: sealer.sealNullable(values.beneficiary_address),
          inter_bank_account_no: sealer.sealNullable(values.inter_bank_account_no),
        } satisfies Insertable<BankAccountsTable>;
        const row = await tx.insertInto('bank_accounts').values(sealed).returningAll().executeTakeFirstOrThrow();
        await outbox.append(tx, {
          partnerId,
          type: verified ? 'BANK_ACCOUNT_VERIFIED' : 'BANK_ACCOUNT_REJECTED',
          objectType: 'bank_account',
          objectId: row.id,
          objectVersion: row.version,
          payload: bankAccountEventPayload(row),
        });
        return row;
      });
    },

    async get(partnerId, id, customerId) {
      let q = db.selectFrom('bank_accounts').selectAll().where('id', '=', id).where('partner_id', '=', partnerId);
      if (customerId !== undefined) q = q.where('customer_id', '=', customerId);
      const row = await q.executeTakeFirst();
      if (!row) throw notFound('bank account', id);
      return row;
    },

    async list(partnerId, page, filter) {
      let q = db.selectFrom('bank_accounts').where('partner_id', '=', partnerId);
      if (filter.customerId) q = q.where('customer_id', '=', filter.customerId);
      if (filter.currency) q = q.where('currency', '=', filter.currency);
      if (filter.createdFrom) q = q.where('created_at', '>=', filter.createdFrom);
      if (filter.createdTo) q = q.where('created_at', '<=', filter.createdTo);
      return paginate<BankAccountRow>(q, page);
    },
  };
}

/** The payee as a payment file names it. */
export function creditorOf(
  b: Pick<
    BankAccountRow,
    | 'account_name'
    | 'bank_name'
    | 'account_no'
    | 'iban'
    | 'swift'
    | 'aba'
    | 'sort_code'
    | 'bsb'
    | 'institution_number'
    | 'transit'
    | 'bank_country'
    | 'beneficiary_address'
  >,
): Creditor {
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

/** Read for other modules (trades, payouts): bank accounts by id, optionally only a partner's, inside the caller's transaction when given. */
export async function findBankAccounts(q: Kysely<DB>, ids: readonly string[], partnerId?: string): Promise<BankAccountRow[]> {
  if (ids.length === 0) return [];
  let s = q
    .selectFrom('bank_accounts')
    .selectAll()
    .where('id', 'in', [...ids]);
  if (partnerId !== undefined) s = s.where('partner_id', '=', partnerId);
  return s.execute();
}

/** For flows: a partner's bank account, share-locked (it cannot change under the caller) until the caller's transaction ends. */
export async function shareLockBankAccount(tx: Transaction<DB>, partnerId: string, id: string): Promise<BankAccountRow | undefined> {
  return tx.selectFrom('bank_accounts').selectAll().where('id', '=', id).where('partner_id', '=', partnerId).forShare().executeTakeFirst();
}

/** Master-key rotation: re-seals every bank account's sealed columns (and seals any still plain). */
export const resealBankAccounts: Resealer = (tx, { from, to }) =>
  resealPages(
    (after, size) => {
      let q = tx
        .selectFrom('bank_accounts')
        .select(['id', 'account_no', 'account_name', 'iban', 'bank_address', 'beneficiary_address', 'inter_bank_account_no'])
        .orderBy('id')
        .limit(size);
      if (after !== null) q = q.where('id', '>', String(after));
      return q.execute();
    },
    async (r) => {
      const re = (v: string | null) => resealValue(v, from.sealer, to.sealer);
      await tx
        .updateTable('bank_accounts')
        .set({
          account_no: re(r.account_no)!,
          account_name: re(r.account_name)!,
          iban: re(r.iban),
          bank_address: re(r.bank_address),
          beneficiary_address: re(r.beneficiary_address),
          inter_bank_account_no: re(r.inter_bank_account_no),
        })
        .where('id', '=', r.id)
        .execute();
    },
  );
