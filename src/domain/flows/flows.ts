import type { Kysely, Selectable } from 'kysely';
import type { DB, FlowsTable } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import { AppError, invariantBroken, notFound, preconditionFailed } from '../../infra/lib/errors.ts';
import type { CreatedRange, Page, PageResult } from '../../infra/lib/pagination.ts';
import type { Network } from '../../adapters/chains/networks.ts';
import type { CryptoAsset } from '../../infra/lib/money.ts';
import {
  depositAddressDetail,
  findDepositAddress,
  type DepositAddresses,
  type DepositAddressRow,
} from '../deposit-addresses/deposit-addresses.ts';
import { bankAccountDetail, findBankAccounts, shareLockBankAccount, type BankAccountRow } from '../bank-accounts/bank-accounts.ts';
import { lockCustomer } from '../customers/customers.ts';
import { isUniqueViolation } from '../../infra/db/database.ts';
import { paginate } from '../../infra/db/paginate.ts';
import { createTransition } from '../../infra/events/state-machine.ts';
import { FLOW_MACHINE } from './state-machine.ts';

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
    } & CreatedRange,
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
  const { transition } = createTransition(FLOW_MACHINE, { clock, events: null });

  async function load(partnerId: string, flow: FlowRow): Promise<FlowWithParts> {
    const [depositAddress, [bankAccount]] = await Promise.all([
      findDepositAddress(db, flow.deposit_address_id),
      findBankAccounts(db, [flow.bank_account_id], partnerId),
    ]);
    if (!depositAddress || !bankAccount) throw invariantBroken(`flow ${flow.id}: its deposit address or bank account is missing`);
    return { flow, depositAddress, bankAccount };
  }

  async function createOfframp(
    partnerId: string,
    input: { customerId: string; network: Network; currency: CryptoAsset; bankAccountId: string },
  ) {
    try {
      return await db.transaction().execute(async (tx) => {
        const customer = await lockCustomer(tx, partnerId, input.customerId);
        if (!customer) throw notFound('customer', input.customerId);
        if (customer.status !== 'CONFIRMED')
          throw new AppError(
            'CUSTOMER_NOT_CONFIRMED',
            `customer ${customer.id} is ${customer.status}; offramp flows need a CONFIRMED customer`,
          );
        const bank = await shareLockBankAccount(tx, partnerId, input.bankAccountId);
        if (!bank) throw notFound('bank account', input.bankAccountId);
        if (bank.customer_id !== customer.id)
          throw new AppError('BANK_ACCOUNT_OF_ANOTHER_CUSTOMER', `to: bank account ${bank.id} belongs to another customer`);
        if (bank.verification_status !== 'VERIFIED')
          throw new AppError(
            'BANK_ACCOUNT_NOT_VERIFIED',
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
      if (filter.createdFrom) q = q.where('created_at', '>=', filter.createdFrom);
      if (filter.createdTo) q = q.where('created_at', '<=', filter.createdTo);
      return paginate<FlowRow>(q, page);
    },
    async delete(partnerId, id) {
      const flow = await getRow(partnerId, id);
      if (flow.deleted_at) throw preconditionFailed(`flow ${id} is already deleted`);
      return transition(db, flow, 'DELETED');
    },
    async setStatus(partnerId, id, status) {
      const flow = await getRow(partnerId, id);
      if (flow.deleted_at) throw preconditionFailed(`flow ${id} is deleted`);
      if (flow.status === status) return flow;
      try {
        return await transition(db, flow, status);
      } catch (err) {
        if (isUniqueViolation(err, 'flows_one_enabled_per_address_uq'))
          throw new AppError('CONFLICT', `another enabled flow already owns deposit address ${flow.deposit_address_id}`);
        throw err;
      }
    },
  };
}

/** Read for other modules (deposits, trades): one flow by id, inside the caller's transaction when given. */
export async function findFlow(q: Kysely<DB>, flowId: string): Promise<FlowRow | undefined> {
  return q.selectFrom('flows').selectAll().where('id', '=', flowId).executeTakeFirst();
}

/** Read for other modules (deposits' routing): the flows from one deposit address, newest first. */
export async function flowsFrom(q: Kysely<DB>, depositAddressId: string): Promise<FlowRow[]> {
  return q.selectFrom('flows').selectAll().where('deposit_address_id', '=', depositAddressId).orderBy('created_at', 'desc').execute();
}
