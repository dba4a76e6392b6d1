import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { DB, DepositAddressesTable } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import type { Outbox } from '../../infra/events/outbox.ts';
import { AppError, notFound, preconditionFailed } from '../../infra/lib/errors.ts';
import type { CreatedRange, Page, PageResult } from '../../infra/lib/pagination.ts';
import { NETWORK_FAMILY, unsupportedTokenReason, type Network } from '../../adapters/chains/networks.ts';
import { deriveAddress, type NetworkFamily } from '../../adapters/chains/addresses.ts';
import type { CryptoAsset } from '../../infra/lib/money.ts';
import { paginate } from '../../infra/db/paginate.ts';
import type { Customers } from '../customers/customers.ts';

/**
 * Deposit addresses are derived watch-only from the configured account xpubs: one derivation
 * index per (customer, network family) from a database sequence, so ETH and MATIC — and USDT
 * and USDC — share the customer's EVM address. One record per (customer, network, currency),
 * `VERIFIED` at creation (derivation is synchronous) with DEPOSIT_ADDRESS_APPROVED emitted in
 * the same transaction.
 */
export type DepositAddressRow = Selectable<DepositAddressesTable>;

export interface AddressDeriver {
  derive(family: NetworkFamily, index: number): string;
}

export function createXpubDeriver(xpubs: Record<NetworkFamily, string>): AddressDeriver {
  return { derive: (family, index) => deriveAddress(xpubs[family], family, index) };
}

export interface DepositAddresses {
  /** Returns the customer's address record for (network, currency), creating it if needed. */
  ensure(
    tx: Transaction<DB>,
    partnerId: string,
    customerId: string,
    network: Network,
    currency: CryptoAsset,
  ): Promise<{ row: DepositAddressRow; created: boolean }>;
  create(partnerId: string, input: { customerId: string; network: Network; currency: CryptoAsset }): Promise<DepositAddressRow>;
  get(partnerId: string, id: string, tx?: Transaction<DB>): Promise<DepositAddressRow>;
  list(partnerId: string, page: Page, filter: { customerId?: string | undefined } & CreatedRange): Promise<PageResult<DepositAddressRow>>;
  /** The partner's address record for an address (normalised, as stored) in a network family, if any. */
  findByAddress(partnerId: string, family: NetworkFamily, address: string): Promise<DepositAddressRow | undefined>;
}

export function depositAddressDetail(d: DepositAddressRow) {
  return {
    id: d.id,
    customerId: d.customer_id,
    status: d.status,
    address: d.address,
    network: d.network,
    currency: d.currency,
    createTime: d.created_at.toISOString(),
    updateTime: d.updated_at.toISOString(),
  };
}

const SEQUENCE: Record<NetworkFamily, string> = { EVM: 'derivation_index_evm', TRON: 'derivation_index_tron' };

export function createDepositAddresses(deps: {
  db: Kysely<DB>;
  ids: IdGenerator;
  clock: Clock;
  outbox: Outbox;
  deriver: AddressDeriver;
  customers: Pick<Customers, 'lock'>;
}): DepositAddresses {
  const { db, ids, clock, outbox } = deps;

  async function derivationFor(tx: Transaction<DB>, customerId: string, family: NetworkFamily) {
    const existing = await tx
      .selectFrom('customer_derivations')
      .selectAll()
      .where('customer_id', '=', customerId)
      .where('family', '=', family)
      .executeTakeFirst();
    if (existing) return existing;
    const { rows } = await sql<{ idx: string }>`select nextval(${SEQUENCE[family]})::text as idx`.execute(tx);
    const index = Number(rows[0]!.idx);
    if (!Number.isSafeInteger(index) || index >= 2 ** 31) throw new AppError('INTERNAL', `derivation index space exhausted for ${family}`);
    const address = deps.deriver.derive(family, index);
    return tx
      .insertInto('customer_derivations')
      .values({ customer_id: customerId, family, derivation_index: index, address, created_at: clock.now() })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async function ensure(tx: Transaction<DB>, partnerId: string, customerId: string, network: Network, currency: CryptoAsset) {
    const reason = unsupportedTokenReason(network, currency);
    if (reason) throw new AppError('INVALID_PARAMETERS', `currency: ${reason}`);
    // FOR UPDATE serialises concurrent requests for the same customer, so the derivation row
    // and the address record are created once.
    const customer = await deps.customers.lock(tx, partnerId, customerId, 'update');
    const existing = await tx
      .selectFrom('deposit_addresses')
      .selectAll()
      .where('customer_id', '=', customerId)
      .where('network', '=', network)
      .where('currency', '=', currency)
      .executeTakeFirst();
    if (existing) return { row: existing, created: false };
    if (customer.status !== 'CONFIRMED')
      throw preconditionFailed(`customer ${customerId} is ${customer.status}; deposit addresses are issued to CONFIRMED customers only`);
    const family = NETWORK_FAMILY[network];
    const derivation = await derivationFor(tx, customerId, family);
    const now = clock.now();
    const row = await tx
      .insertInto('deposit_addresses')
      .values({
        id: ids.next('depositAddress'),
        partner_id: partnerId,
        customer_id: customerId,
        network,
        family,
        currency,
        address: derivation.address,
        derivation_index: derivation.derivation_index,
        status: 'VERIFIED',
        version: 1,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await outbox.append(tx, {
      partnerId,
      type: 'DEPOSIT_ADDRESS_APPROVED',
      objectType: 'deposit_address',
      objectId: row.id,
      objectVersion: row.version,
      payload: depositAddressDetail(row),
    });
    return { row, created: true };
  }

  return {
    ensure,
    async create(partnerId, input) {
      const { row } = await db.transaction().execute((tx) => ensure(tx, partnerId, input.customerId, input.network, input.currency));
      return row;
    },
    async get(partnerId, id, tx) {
      const row = await (tx ?? db)
        .selectFrom('deposit_addresses')
        .selectAll()
        .where('id', '=', id)
        .where('partner_id', '=', partnerId)
        .executeTakeFirst();
      if (!row) throw notFound('deposit address', id);
      return row;
    },
    async list(partnerId, page, filter) {
      let q = db.selectFrom('deposit_addresses').where('partner_id', '=', partnerId);
      if (filter.customerId) q = q.where('customer_id', '=', filter.customerId);
      if (filter.createdFrom) q = q.where('created_at', '>=', filter.createdFrom);
      if (filter.createdTo) q = q.where('created_at', '<=', filter.createdTo);
      return paginate<DepositAddressRow>(q, page);
    },
    findByAddress: (partnerId, family, address) =>
      db
        .selectFrom('deposit_addresses')
        .selectAll()
        .where('partner_id', '=', partnerId)
        .where('family', '=', family)
        .where('address', '=', address)
        .limit(1)
        .executeTakeFirst(),
  };
}

/** Read for other modules (deposits): one deposit address by id, inside the caller's transaction when given. */
export async function findDepositAddress(q: Kysely<DB>, id: string): Promise<DepositAddressRow | undefined> {
  return q.selectFrom('deposit_addresses').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Read for other modules (deposits): a customer's deposit addresses of one network family. */
export async function depositAddressesOf(q: Kysely<DB>, customerId: string, family: NetworkFamily): Promise<DepositAddressRow[]> {
  return q.selectFrom('deposit_addresses').selectAll().where('customer_id', '=', customerId).where('family', '=', family).execute();
}

/**
 * One page of the derived addresses of a network family above a derivation index, in index
 * order: the scanner's address book loads and refreshes itself with it.
 */
export function derivedAddressesAfter(db: Kysely<DB>, family: NetworkFamily, afterIndex: number, limit: number) {
  return db
    .selectFrom('customer_derivations')
    .select(['derivation_index', 'address', 'customer_id'])
    .where('family', '=', family)
    .where('derivation_index', '>', afterIndex)
    .orderBy('derivation_index')
    .limit(limit)
    .execute();
}
