import type { Kysely, Selectable } from 'kysely';
import type { DB, FlowsTable } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import { AppError, notFound, preconditionFailed } from '../../infra/lib/errors.ts';
import type { Page, PageResult } from '../../infra/lib/pagination.ts';
import type { Network } from '../../adapters/chains/networks.ts';
import type { CryptoAsset } from '../../infra/lib/money.ts';
import { depositAddressDetail, type DepositAddresses, type DepositAddressRow } from '../deposit-addresses/deposit-addresses.ts';
import { bankAccountDetail, type BankAccountRow } from '../bank-accounts/bank-accounts.ts';
import { isUniqueViolation } from '../../infra/db/database.ts';
import { paginate } from '../../infra/db/paginate.ts';

/**
 * Offramp flows connect a deposit address (entry) to a bank account (exit). Prerequisites are
 * enforced under row locks: customer CONFIRMED, bank account the customer's own and VERIFIED.
 * Deposits are routed by address, so at most one live ENABLED flow owns a deposit address; a
 * repeated create for the same address and bank account returns the existing flow.
 */
export type FlowRow = Selectable<FlowsTable>;

export interface FlowWithParts {
  flow: FlowRow;
  depositAddress: DepositAddressRow;
  bankAccount: BankAccountRow;
}

export interface Flows {
  createOfframp(
    partnerId: string,
    input: { customerId: string; network: Network; currency: CryptoAsset; bankAccountId: string },
  ): Promise<FlowWithParts & { created: boolean }>;
  createFromIds(
    partnerId: string,
    input: { depositAddressId: string; bankAccountId: string },
  ): Promise<FlowWithParts & { created: boolean }>;
  get(partnerId: string, id: string): Promise<FlowWithParts>;
  list(
    partnerId: string,
    page: Page,
    filter: {
      status?: 'ENABLED' | 'DISABLED' | undefined;
      type?: string | undefined;
      customerId?: string | undefined;
      includeDeleted?: boolean | undefined;
    },
  ): Promise<PageResult<FlowRow>>;
  delete(partnerId: string, id: string): Promise<FlowRow>;
  setStatus(partnerId: string, id: string, status: 'ENABLED' | 'DISABLED'): Promise<FlowRow>;
}

export function flowDetail(x: FlowWithParts) {
  return {
    id: x.flow.id,
    type: x.flow.type,
    fromVirtualAccount: null,
    fromDepositAddress: depositAddressDetail(x.depositAddress),
    toBankAccount: bankAccountDetail(x.bankAccount),
    toCryptoAddress: null,
    status: x.flow.status,
    currency: x.flow.currency,
    network: x.flow.network,
    fiatCurrency: x.flow.fiat_currency,
    depositAddress: x.depositAddress.address,
    deletedAt: x.flow.deleted_at ? x.flow.deleted_at.toISOString() : null,
    createTime: x.flow.created_at.toISOString(),
    updateTime: x.flow.updated_at.toISOString(),
  };
}

export function flowListItem(f: FlowRow) {
  return {
    id: f.id,
    type: f.type,
    from: f.deposit_address_id,
    to: f.bank_account_id,
    status: f.status,
    currency: f.currency,
    network: f.network,
    fiatCurrency: f.fiat_currency,
    deletedAt: f.deleted_at ? f.deleted_at.toISOString() : null,
    createTime: f.created_at.toISOString(),
  };
}

/** The create response: contract `{id}` plus the fields the guide's sample clients read (docs/api-contract.md). */
export function flowCreatedData(x: FlowWithParts) {
  const inner = { depositAddress: x.depositAddress.address, network: x.flow.network, currency: x.flow.currency };
  return {
    id: x.flow.id,
    flowId: x.flow.id,
    status: x.flow.status,
    depositAddressId: x.depositAddress.id,
    ...inner,
    fiatCurrency: x.flow.fiat_currency,
    bankAccountId: x.bankAccount.id,
    data: inner,
  };
}

export function createFlows(deps: { db: Kysely<DB>; ids: IdGenerator; clock: Clock; depositAddresses: DepositAddresses }): Flows {
  const { db, ids, clock } = deps;

  async function load(partnerId: string, flow: FlowRow): Promise<FlowWithParts> {
    const [depositAddress, bankAccount] = await Promise.all([
      db.selectFrom('deposit_addresses').selectAll().where('id', '=', flow.deposit_address_id).executeTakeFirstOrThrow(),
      db
        .selectFrom('bank_accounts')
        .selectAll()
        .where('id', '=', flow.bank_account_id)
        .where('partner_id', '=', partnerId)
        .executeTakeFirstOrThrow(),
    ]);
    return { flow, depositAddress, bankAccount };
  }

  async function createOfframp(
    partnerId: string,
    input: { customerId: string; network: Network; currency: CryptoAsset; bankAccountId: string },
  ) {
    try {
      return await db.transaction().execute(async (tx) => {
        const customer = await tx
          .selectFrom('customers')
          .selectAll()
          .where('id', '=', input.customerId)
          .where('partner_id', '=', partnerId)
          .forUpdate()
          .executeTakeFirst();
        if (!customer) throw notFound('customer', input.customerId);
        if (customer.status !== 'CONFIRMED')
          throw preconditionFailed(`customer ${customer.id} is ${customer.status}; offramp flows need a CONFIRMED customer`);
        const bank = await tx
          .selectFrom('bank_accounts')
          .selectAll()
          .where('id', '=', input.bankAccountId)
          .where('partner_id', '=', partnerId)
          .forShare()
          .executeTakeFirst();
        if (!bank) throw notFound('bank account', input.bankAccountId);
        if (bank.customer_id !== customer.id) throw preconditionFailed(`to: bank account ${bank.id} belongs to another customer`);
        if (bank.verification_status !== 'VERIFIED')
          throw preconditionFailed(
            `to: bank account ${bank.id} is ${bank.verification_status}${bank.verification_reason ? ` (${bank.verification_reason})` : ''}; offramp flows need a VERIFIED bank account`,
          );
        const { row: depositAddress } = await deps.depositAddresses.ensure(tx, partnerId, customer.id, input.network, input.currency);
        const live = await tx
          .selectFrom('flows')
          .selectAll()
          .where('deposit_address_id', '=', depositAddress.id)
          .where('status', '=', 'ENABLED')
          .where('deleted_at', 'is', null)
          .executeTakeFirst();
        if (live) {
          if (live.bank_account_id === bank.id) return { flow: live, depositAddress, bankAccount: bank, created: false };
          throw new AppError(
            'CONFLICT',
            `an enabled offramp flow (${live.id}) already routes ${input.currency} on ${input.network} for customer ${customer.id} to bank account ${live.bank_account_id}; delete or disable it first`,
          );
        }
        const now = clock.now();
        const flow = await tx
          .insertInto('flows')
          .values({
            id: ids.next('flow'),
            partner_id: partnerId,
            customer_id: customer.id,
            type: 'OFFRAMP',
            deposit_address_id: depositAddress.id,
            bank_account_id: bank.id,
            currency: input.currency,
            network: input.network,
            fiat_currency: bank.currency,
            status: 'ENABLED',
            deleted_at: null,
            version: 1,
            created_at: now,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return { flow, depositAddress, bankAccount: bank, created: true };
      });
    } catch (err) {
      if (isUniqueViolation(err, 'flows_one_enabled_per_address_uq')) {
        throw new AppError(
          'CONFLICT',
          `an enabled offramp flow already routes ${input.currency} on ${input.network} for customer ${input.customerId}; retry to get it`,
        );
      }
      throw err;
    }
  }

  async function getRow(partnerId: string, id: string) {
    const flow = await db.selectFrom('flows').selectAll().where('id', '=', id).where('partner_id', '=', partnerId).executeTakeFirst();
    if (!flow) throw notFound('flow', id);
    return flow;
  }

  return {
    createOfframp,
    async createFromIds(partnerId, input) {
      const da = await deps.depositAddresses.get(partnerId, input.depositAddressId);
      return createOfframp(partnerId, {
        customerId: da.customer_id,
        network: da.network,
        currency: da.currency,
        bankAccountId: input.bankAccountId,
      });
    },
    async get(partnerId, id) {
      return load(partnerId, await getRow(partnerId, id));
    },
    async list(partnerId, page, filter) {
      let q = db.selectFrom('flows').where('partner_id', '=', partnerId);
      if (!filter.includeDeleted) q = q.where('deleted_at', 'is', null);
      if (filter.status) q = q.where('status', '=', filter.status);
      if (filter.type) q = q.where('type', '=', filter.type as FlowRow['type']);
      if (filter.customerId) q = q.where('customer_id', '=', filter.customerId);
      return paginate<FlowRow>(q, page);
    },
    async delete(partnerId, id) {
      const flow = await getRow(partnerId, id);
      if (flow.deleted_at) throw preconditionFailed(`flow ${id} is already deleted`);
      return db
        .updateTable('flows')
        .set({ status: 'DISABLED', deleted_at: clock.now(), updated_at: clock.now(), version: flow.version + 1 })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    },
    async setStatus(partnerId, id, status) {
      const flow = await getRow(partnerId, id);
      if (flow.deleted_at) throw preconditionFailed(`flow ${id} is deleted`);
      if (flow.status === status) return flow;
      try {
        return await db
          .updateTable('flows')
          .set({ status, updated_at: clock.now(), version: flow.version + 1 })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
      } catch (err) {
        if (isUniqueViolation(err, 'flows_one_enabled_per_address_uq'))
          throw new AppError('CONFLICT', `another enabled flow already owns deposit address ${flow.deposit_address_id}`);
        throw err;
      }
    },
  };
}
