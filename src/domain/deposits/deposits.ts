import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { DB, DepositsTable } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import type { Outbox } from '../../infra/events/outbox.ts';
import type { JobQueue } from '../../infra/jobs/queue.ts';
import type { Registry, TokenEntry } from '../../adapters/chains/registry.ts';
import type { Network } from '../../adapters/chains/networks.ts';
import type { TransferLog } from '../../adapters/chains/types.ts';
import { NETWORK_FAMILY } from '../../adapters/chains/networks.ts';
import { hexToTron } from '../../adapters/chains/addresses.ts';
import {
  depositAddressDetail,
  depositAddressesOf,
  findDepositAddress,
  type DepositAddressRow,
} from '../deposit-addresses/deposit-addresses.ts';
import { findCustomer } from '../customers/customers.ts';
import { findFlow, flowsFrom } from '../flows/flows.ts';
import { createTransition } from '../../infra/events/state-machine.ts';
import { DEPOSIT_MACHINE, decideAdvance, heldGroupReachesMinimum } from './state-machine.ts';
import { formatAmount, minorFromDb } from '../../infra/lib/money.ts';
import { AppError, invariantBroken, notFound, preconditionFailed } from '../../infra/lib/errors.ts';
import type { CreatedRange, Page, PageResult } from '../../infra/lib/pagination.ts';
import { ACCOUNTS, type Ledger } from '../ledger/ledger.ts';
import { paginate } from '../../infra/db/paginate.ts';

/**
 * Deposits (docs/state-machines.md; the moves are in ./state-machine.ts): `RECEIVED` (seen,
 * confirmations n/N) → `CONFIRMED` (final) | `ACTION_REQUIRED` (held for review, with a reason) |
 * `REJECTED` (CHAIN_REORG, REFUNDED, …). Each transition writes its event in the same
 * transaction. A transfer is identified by
 * (network, txHash, ordinal of the Transfer log inside its transaction), so it is credited at
 * most once whatever the chain does; a re-mined transfer returns to RECEIVED.
 */
export type DepositRow = Selectable<DepositsTable>;

export const TRADE_CREATE_JOB = 'trade.create';
/** A rate outage must delay trades, not fail them: with the 10-minute backoff cap this is about a week. */
export const TRADE_CREATE_ATTEMPTS_MAX = 1000;

export interface MatchedTransfer {
  log: TransferLog;
  ordinal: number;
  token: TokenEntry;
  customerId: string;
}

export interface Deposits {
  /** Records transfers seen by the scanner (inside the scanner's transaction). */
  ingest(tx: Transaction<DB>, network: Network, matches: MatchedTransfer[], head: bigint): Promise<number>;
  /** Rejects open deposits above a fork point (inside the scanner's reorg transaction). */
  orphanAbove(tx: Transaction<DB>, network: Network, forkNumber: bigint): Promise<number>;
  /** Advances confirmations and settles deposits at or below the final block. */
  advance(network: Network, head: bigint, finalNumber: bigint): Promise<number>;
  get(partnerId: string, id: string): Promise<DepositRow>;
  list(
    partnerId: string,
    page: Page,
    filter: {
      customerId?: string | undefined;
      currency?: string | undefined;
      status?: DepositRow['status'] | undefined;
      /** As stored: `0x` + lowercase hex. */
      txHash?: string | undefined;
      /** The receiving (deposit) address as stored: `0x` + 40 hex (TRON addresses in their hex form). */
      address?: string | undefined;
    } & CreatedRange,
  ): Promise<PageResult<DepositRow>>;
  /** Operator: a refund was sent on chain; ACTION_REQUIRED → REJECTED/REFUNDED. */
  recordRefund(depositId: string, refundTxHash: string): Promise<DepositRow>;
  detail(row: DepositRow): Promise<Record<string, unknown>>;
}

const EVM_TWIN: Partial<Record<Network, Network>> = { ETH: 'MATIC', MATIC: 'ETH' };

/** On Tron, hashes and addresses are shown the way Tron users know them. */
function displayTx(network: Network, hash: string): string {
  return NETWORK_FAMILY[network] === 'TRON' ? hash.replace(/^0x/, '') : hash;
}
function displayAddress(network: Network, hex: string): string {
  return NETWORK_FAMILY[network] === 'TRON' ? hexToTron(hex) : hex;
}

export function depositDetail(d: DepositRow, receiver: DepositAddressRow | null) {
  const txid = displayTx(d.network, d.tx_hash);
  return {
    id: d.id,
    customerId: d.customer_id,
    type: 'CRYPTO' as const,
    currency: d.currency,
    amount: formatAmount(d.currency, minorFromDb(d.currency, d.amount)),
    senderBankAccount: null,
    senderCryptoAddress: null,
    receiverDepositAddress: receiver ? depositAddressDetail(receiver) : null,
    receiverVirtualAccount: null,
    txid,
    voutIndexTxKey: `${txid}:${d.log_ordinal}`,
    txFrom: displayAddress(d.network, d.from_address),
    txReference: null,
    status: d.status,
    timestamp: d.detected_at.toISOString(),
    network: d.network,
    flowId: d.flow_id,
    tokenContract: displayAddress(d.network, d.token_contract),
    blockNumber: d.block_number,
    blockHash: d.block_hash,
    logIndex: d.log_index,
    confirmations: d.confirmations,
    confirmationsRequired: d.confirmations_required,
    rejectReason: d.reject_reason,
    actionReason: d.action_reason,
    holdReason: d.hold_reason,
    aggregateId: d.aggregate_id,
    refundTxHash: d.refund_tx_hash,
    finalAt: d.final_at ? d.final_at.toISOString() : null,
    createTime: d.created_at.toISOString(),
    updateTime: d.updated_at.toISOString(),
  };
}

export function depositListItem(d: DepositRow, customerName: string | null) {
  const txid = displayTx(d.network, d.tx_hash);
  return {
    id: d.id,
    customerId: d.customer_id,
    customerName: customerName ?? '',
    currency: d.currency,
    amount: formatAmount(d.currency, minorFromDb(d.currency, d.amount)),
    status: d.status,
    txid,
    voutIndexTxKey: `${txid}:${d.log_ordinal}`,
    txFrom: displayAddress(d.network, d.from_address),
    txReference: null,
    timestamp: d.detected_at.toISOString(),
    network: d.network,
    confirmations: d.confirmations,
    confirmationsRequired: d.confirmations_required,
    rejectReason: d.reject_reason,
    actionReason: d.action_reason,
  };
}

export function createDeposits(deps: {
  db: Kysely<DB>;
  ids: IdGenerator;
  clock: Clock;
  outbox: Outbox;
  jobs: JobQueue;
  registry: Registry;
  ledger: Ledger;
}): Deposits {
  const { db, ids, clock, outbox, registry, ledger } = deps;

  const receiverOf = async (q: Kysely<DB>, d: Pick<DepositRow, 'deposit_address_id'>) =>
    (await findDepositAddress(q, d.deposit_address_id)) ?? null;

  const { transition, announce } = createTransition(DEPOSIT_MACHINE, {
    clock,
    events: {
      outbox,
      objectType: 'deposit',
      payload: async (tx, d) => depositDetail(d, await receiverOf(tx, d)),
    },
  });

  /**
   * Where a transfer to a customer's address belongs: the flow of its own network and token;
   * on EVM, when the customer never had a flow there, the twin network's (ETH ↔ MATIC share the
   * address), so a transfer sent on the "other" EVM network is credited, not lost. A flow the
   * partner disabled or deleted is respected (the deposit then needs action), never bypassed.
   */
  async function route(tx: Transaction<DB>, customerId: string, network: Network, currency: string) {
    const records = await depositAddressesOf(tx, customerId, NETWORK_FAMILY[network]);
    const preference = [network, EVM_TWIN[network]].filter(Boolean) as Network[];
    let fallback: DepositAddressRow | undefined;
    for (const net of preference) {
      const rec = records.find((r) => r.network === net && r.currency === currency);
      if (!rec) continue;
      fallback ??= rec;
      const flows = await flowsFrom(tx, rec.id);
      const live = flows.find((f) => f.status === 'ENABLED' && f.deleted_at === null);
      if (live) return { receiver: rec, flowId: live.id };
      if (flows[0]) return { receiver: rec, flowId: flows[0].id };
    }
    // No flow for this token at all (e.g. USDC sent to a USDT-only customer).
    return { receiver: fallback ?? records[0]!, flowId: null };
  }

  /** The writes a final deposit's decision implies: state, journal, and the trade job (or the hold). */
  async function settleFinal(tx: Transaction<DB>, d: DepositRow, finalNumber: bigint) {
    const now = clock.now();
    const customer = await findCustomer(tx, d.customer_id);
    if (!customer) throw invariantBroken(`deposit ${d.id}: customer ${d.customer_id} does not exist`);
    // The flow may have changed since detection: re-route now that the funds are final.
    const { flowId } = await route(tx, d.customer_id, d.network, d.currency);
    const flow = flowId ? await findFlow(tx, flowId) : undefined;
    const token = registry.tokenFor(d.network, d.currency);
    const decision = decideAdvance({
      deposit: {
        status: d.status,
        blockNumber: BigInt(d.block_number),
        amount: BigInt(d.amount),
        currency: d.currency,
        network: d.network,
      },
      finalNumber,
      flow: flow ? { id: flow.id, status: flow.status, deletedAt: flow.deleted_at } : null,
      customerStatus: customer.status,
      minimum: token?.minimum ?? null,
    });
    if (decision.kind === 'none') return;

    if (decision.kind === 'action-required') {
      await transition(tx, d, 'ACTION_REQUIRED', {
        action_reason: decision.reason,
        flow_id: decision.flowId ?? d.flow_id,
        final_at: now,
        updated_at: now,
      });
      // Final funds in our custody that belong to no flow yet: owed back or to be assigned.
      await ledger.post(tx, {
        kind: 'deposit.unallocated',
        refId: d.id,
        memo: `${d.currency} ${d.network} deposit needing action`,
        entries: [
          { account: ACCOUNTS.cryptoCustody(d.network), asset: d.currency, amount: BigInt(d.amount) },
          { account: ACCOUNTS.unallocatedDeposits(d.partner_id), asset: d.currency, amount: -BigInt(d.amount) },
        ],
      });
      return;
    }

    // Small deposits are held per flow until together they reach the minimum; then the group
    // (this deposit included) becomes one trade. The group is decided before the state change so
    // the DEPOSIT_APPROVED event already carries the group's id.
    const held = decision.belowMinimum
      ? await tx
          .selectFrom('deposits')
          .select(['id', 'amount'])
          .where('flow_id', '=', decision.flowId)
          .where('status', '=', 'CONFIRMED')
          .where('hold_reason', 'is not', null)
          .where('aggregate_id', 'is', null)
          .where('id', '!=', d.id)
          .forUpdate()
          .execute()
      : [];
    const group = [...held.map((h) => ({ id: h.id, amount: BigInt(h.amount) })), { id: d.id, amount: BigInt(d.amount) }];
    const aggregateId =
      decision.belowMinimum &&
      heldGroupReachesMinimum(
        group.map((g) => g.amount),
        token?.minimum ?? null,
      )
        ? ids.next('aggregate')
        : null;
    // The journal first, then the state change and its event: the event is the last write, as before.
    await ledger.post(tx, {
      kind: 'deposit.credited',
      refId: d.id,
      memo: `${d.currency} ${d.network} deposit credited`,
      entries: [
        { account: ACCOUNTS.cryptoCustody(d.network), asset: d.currency, amount: BigInt(d.amount) },
        { account: ACCOUNTS.customerCrypto(d.partner_id, d.customer_id), asset: d.currency, amount: -BigInt(d.amount) },
      ],
    });
    if (!decision.belowMinimum) {
      await deps.jobs.enqueue(tx, {
        kind: TRADE_CREATE_JOB,
        payload: { depositIds: [d.id] },
        uniqueKey: `${TRADE_CREATE_JOB}:${d.id}`,
        maxAttempts: TRADE_CREATE_ATTEMPTS_MAX,
      });
    } else if (aggregateId) {
      if (held.length > 0)
        await tx
          .updateTable('deposits')
          .set({ aggregate_id: aggregateId, updated_at: now })
          .where(
            'id',
            'in',
            held.map((h) => h.id),
          )
          .execute();
      await deps.jobs.enqueue(tx, {
        kind: TRADE_CREATE_JOB,
        payload: { depositIds: group.map((g) => g.id), aggregateId },
        uniqueKey: `${TRADE_CREATE_JOB}:${aggregateId}`,
        maxAttempts: TRADE_CREATE_ATTEMPTS_MAX,
      });
    }
    await transition(tx, d, 'CONFIRMED', {
      flow_id: decision.flowId,
      hold_reason: decision.belowMinimum ? 'BELOW_MINIMUM' : null,
      aggregate_id: aggregateId,
      final_at: now,
      updated_at: now,
    });
  }

  return {
    async ingest(tx, network, matches, head) {
      const policy = registry.policy(network);
      let n = 0;
      for (const m of matches) {
        const now = clock.now();
        const confirmations = Number(head - m.log.blockNumber + 1n);
        const existing = await tx
          .selectFrom('deposits')
          .selectAll()
          .where('network', '=', network)
          .where('tx_hash', '=', m.log.txHash)
          .where('log_ordinal', '=', m.ordinal)
          .forUpdate()
          .executeTakeFirst();
        if (existing) {
          if (existing.status === 'REJECTED' && existing.reject_reason === 'CHAIN_REORG') {
            // Re-mined in the new branch: the same transfer, announced again.
            await transition(tx, existing, 'RECEIVED', {
              reject_reason: null,
              block_number: m.log.blockNumber.toString(),
              block_hash: m.log.blockHash,
              log_index: m.log.logIndex,
              confirmations,
              updated_at: now,
            });
            n++;
          }
          continue;
        }
        const { receiver, flowId } = await route(tx, m.customerId, network, m.token.currency);
        const row = await tx
          .insertInto('deposits')
          .values({
            id: ids.next('deposit'),
            partner_id: receiver.partner_id,
            customer_id: m.customerId,
            deposit_address_id: receiver.id,
            flow_id: flowId,
            network,
            currency: m.token.currency,
            token_contract: m.token.contract,
            tx_hash: m.log.txHash,
            log_ordinal: m.ordinal,
            log_index: m.log.logIndex,
            block_number: m.log.blockNumber.toString(),
            block_hash: m.log.blockHash,
            from_address: m.log.from,
            to_address: m.log.to,
            amount: m.log.value.toString(),
            status: 'RECEIVED',
            confirmations,
            confirmations_required: policy.fallbackConfirmations,
            reject_reason: null,
            action_reason: null,
            hold_reason: null,
            aggregate_id: null,
            refund_tx_hash: null,
            version: 1,
            detected_at: now,
            final_at: null,
            created_at: now,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await announce(tx, row, 'DEPOSIT_RECEIVED');
        n++;
      }
      return n;
    },

    async orphanAbove(tx, network, forkNumber) {
      const open = await tx
        .selectFrom('deposits')
        .selectAll()
        .where('network', '=', network)
        .where('status', '=', 'RECEIVED')
        .where(sql<boolean>`block_number > ${forkNumber.toString()}::bigint`)
        .forUpdate()
        .execute();
      for (const d of open) await transition(tx, d, 'REJECTED', { reject_reason: 'CHAIN_REORG' });
      return open.length;
    },

    async advance(network, head, finalNumber) {
      await sql`update deposits set confirmations = (${head.toString()}::bigint - block_number + 1)::int
                where network = ${network} and status = 'RECEIVED'`.execute(db);
      const due = await db
        .selectFrom('deposits')
        .select('id')
        .where('network', '=', network)
        .where('status', '=', 'RECEIVED')
        .where(sql<boolean>`block_number <= ${finalNumber.toString()}::bigint`)
        .orderBy('block_number')
        .execute();
      for (const { id } of due) {
        await db.transaction().execute(async (tx) => {
          const d = await tx.selectFrom('deposits').selectAll().where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
          await settleFinal(tx, d, finalNumber);
        });
      }
      return due.length;
    },

    async get(partnerId, id) {
      const row = await db.selectFrom('deposits').selectAll().where('id', '=', id).where('partner_id', '=', partnerId).executeTakeFirst();
      if (!row) throw notFound('deposit', id);
      return row;
    },

    async list(partnerId, page, filter) {
      let q = db.selectFrom('deposits').where('partner_id', '=', partnerId);
      if (filter.customerId) q = q.where('customer_id', '=', filter.customerId);
      if (filter.currency) q = q.where('currency', '=', filter.currency as DepositRow['currency']);
      if (filter.status) q = q.where('status', '=', filter.status);
      if (filter.txHash) q = q.where('tx_hash', '=', filter.txHash);
      if (filter.address) q = q.where((eb) => eb(eb.fn('lower', ['to_address']), '=', filter.address!.toLowerCase()));
      if (filter.createdFrom) q = q.where('created_at', '>=', filter.createdFrom);
      if (filter.createdTo) q = q.where('created_at', '<=', filter.createdTo);
      return paginate<DepositRow>(q, page);
    },

    async recordRefund(depositId, refundTxHash) {
      return db.transaction().execute(async (tx) => {
        const d = await tx.selectFrom('deposits').selectAll().where('id', '=', depositId).forUpdate().executeTakeFirst();
        if (!d) throw notFound('deposit', depositId);
        if (d.status !== 'ACTION_REQUIRED')
          throw preconditionFailed(`deposit ${depositId} is ${d.status}; only ACTION_REQUIRED deposits can be refunded`);
        const updated = await transition(tx, d, 'REJECTED', { reject_reason: 'REFUNDED', refund_tx_hash: refundTxHash });
        await ledger.post(tx, {
          kind: 'deposit.refunded',
          refId: depositId,
          memo: `refund ${refundTxHash}`,
          entries: [
            { account: ACCOUNTS.unallocatedDeposits(d.partner_id), asset: d.currency, amount: BigInt(d.amount) },
            { account: ACCOUNTS.cryptoCustody(d.network), asset: d.currency, amount: -BigInt(d.amount) },
          ],
        });
        return updated;
      });
    },

    async detail(row) {
      return depositDetail(row, await receiverOf(db, row));
    },
  };
}

/** For trades: one deposit by id. */
export async function findDeposit(q: Kysely<DB>, id: string): Promise<DepositRow | undefined> {
  return q.selectFrom('deposits').selectAll().where('id', '=', id).executeTakeFirst();
}

/** For trades: the deposits a trade is made of, locked (in id order) until the caller's transaction ends. */
export async function lockDeposits(tx: Transaction<DB>, ids: readonly string[]): Promise<DepositRow[]> {
  if (ids.length === 0) return [];
  return tx
    .selectFrom('deposits')
    .selectAll()
    .where('id', 'in', [...ids])
    .orderBy('id')
    .forUpdate()
    .execute();
}

/** For trades: records the trade the deposits fund. A deposit funds at most one trade, so one already linked is refused. */
export async function linkTrade(tx: Transaction<DB>, depositIds: readonly string[], tradeId: string, now: Date): Promise<void> {
  if (depositIds.length === 0) return;
  const res = await tx
    .updateTable('deposits')
    .set({ trade_id: tradeId, updated_at: now })
    .where('id', 'in', [...depositIds])
    .where('trade_id', 'is', null)
    .executeTakeFirst();
  if (res.numUpdatedRows !== BigInt(depositIds.length))
    throw new AppError('DEPOSIT_ALREADY_TRADED', `trade ${tradeId}: a deposit of ${depositIds.join(', ')} already funds another trade`);
}

/** Jobs whose payload this module writes: `trade.create` (a confirmed deposit, or a released aggregate, becomes a trade). */
export function registerJobs(
  queue: Pick<JobQueue, 'register'>,
  deps: { trades: { create(input: { depositIds: string[]; aggregateId?: string }): Promise<unknown> } },
): void {
  queue.register(TRADE_CREATE_JOB, async (p) => {
    await deps.trades.create({
      depositIds: (p.depositIds as string[]) ?? [],
      ...(typeof p.aggregateId === 'string' ? { aggregateId: p.aggregateId } : {}),
    });
  });
}
