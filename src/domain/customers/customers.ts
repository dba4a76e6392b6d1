import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Resealer } from '../../infra/keys/master-key.ts';
import { resealPages, resealValue } from '../../infra/db/sealed-columns.ts';
import type { DB, CustomersTable } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import type { FieldSealer } from '../../infra/db/sealed-columns.ts';
import type { Outbox } from '../../infra/events/outbox.ts';
import type { KycProvider } from '../../adapters/kyc/kyc.ts';
import { AppError, notFound, preconditionFailed } from '../../infra/lib/errors.ts';
import { isUniqueViolation } from '../../infra/db/database.ts';
import { countryName, normalizeCountryCode } from '../../infra/lib/countries.ts';
import { checkName, quoteForMessage } from '../../infra/lib/text.ts';
import type { CreatedRange, Page, PageResult } from '../../infra/lib/pagination.ts';
import { paginate } from '../../infra/db/paginate.ts';

/**
 * Customers: `PENDING` → `CONFIRMED` | `REJECTED`; `CONFIRMED` → `DELETED`. Each transition
 * writes its CUSTOMER_* event in the same transaction. `externalId` is unique per partner and a
 * repeated create with the same externalId returns the existing customer.
 */
export type CustomerRow = Selectable<CustomersTable>;

/** Optional fields may be passed as undefined (a request that left them out). */
export interface CreateCustomerInput {
  name: string;
  email: string;
  type?: 'DEPOSITOR' | 'PAYEE' | undefined;
  isIndividual?: boolean | undefined;
  externalId?: string | undefined;
  /** YYYY-MM-DD: a real calendar date, not in the future, at most 130 years ago. */
  dateOfBirth?: string | undefined;
  /** ISO 3166-1 alpha-2, any case (stored upper-case). */
  country?: string | undefined;
  nationality?: string | undefined;
  city?: string | undefined;
  address?: string | undefined;
}

export interface CustomerListFilter {
  status?: string | undefined;
  realName?: string | undefined;
  createTime?: string | undefined;
  sortDirection?: 'ASC' | 'DESC' | undefined;
  createdFrom?: CreatedRange['createdFrom'];
  createdTo?: CreatedRange['createdTo'];
}

export interface Customers {
  /** Checks the input (clear error naming the field, nothing written); trims names and email, upper-cases countries. */
  create(partnerId: string, input: CreateCustomerInput): Promise<{ customer: CustomerRow; created: boolean }>;
  get(
    partnerId: string,
    by: { id?: string | undefined; email?: string | undefined; externalId?: string | undefined },
  ): Promise<CustomerRow>;
  /** Any partner's customer by id, or undefined (operator tools and jobs). */
  findById(customerId: string): Promise<CustomerRow | undefined>;
  /** Customer names by id, for list views that show them beside other records. */
  namesByIds(customerIds: readonly string[]): Promise<Map<string, string>>;
  list(partnerId: string, page: Page, filter: CustomerListFilter): Promise<PageResult<CustomerRow>>;
  /** KYC decision; returns false when the customer was no longer PENDING (idempotent). */
  decide(customerId: string, decision: 'APPROVE' | 'REJECT', remark: string | null, opts?: { partnerId?: string }): Promise<boolean>;
  delete(partnerId: string, customerId: string): Promise<void>;
  /**
   * Locks and returns the partner's customer inside a transaction (prerequisite checks): `share`
   * keeps its status from changing until commit, `update` also serialises callers on the customer.
   */
  lock(tx: Transaction<DB>, partnerId: string, customerId: string, strength: 'share' | 'update'): Promise<CustomerRow>;
}

/** The contract's customer detail (`GetCustomerDataDto`) plus our timestamps. */
export function customerDetail(c: CustomerRow) {
  return {
    id: c.id,
    realName: c.name,
    email: c.email,
    type: c.type,
    isIndividual: c.is_individual,
    externalId: c.external_id ?? undefined,
    country: c.country ?? '',
    countryName: countryName(c.country),
    nationality: c.nationality ?? '',
    nationalityName: countryName(c.nationality),
    city: c.city ?? '',
    address: c.address ?? '',
    dob: c.dob,
    status: c.status,
    remark: c.remark ?? '',
    createTime: c.created_at.toISOString(),
    updateTime: c.updated_at.toISOString(),
  };
}

/** The contract's list item (`CustomerListItemDto`): string fields are never null. */
export function customerListItem(c: CustomerRow) {
  return {
    id: c.id,
    externalId: c.external_id ?? undefined,
    realName: c.name,
    email: c.email,
    type: c.type,
    country: c.country ?? '',
    countryName: countryName(c.country) ?? '',
    dob: c.dob ?? '',
    status: c.status,
    remark: c.remark ?? '',
    createTime: c.created_at.toISOString(),
  };
}

/** The oldest date of birth accepted, in years before today: older is a typo, not a customer. */
const AGE_YEARS_MAX = 130;

/**
 * Field checks the request schema cannot express; the first problem is reported (docs/api-contract.md,
 * "Input rules"). Returns the input as it is stored: names trimmed, countries upper-cased.
 */
function checkCreateInput(input: CreateCustomerInput, now: Date): CreateCustomerInput {
  const invalid = (field: string, rule: string) => new AppError('INVALID_PARAMETERS', `${field}: ${rule}`);
  const name = checkName(input.name);
  if (!name.ok) throw invalid('name', name.rule);
  let city = input.city;
  if (city !== undefined) {
    const c = checkName(city);
    if (!c.ok) throw invalid('city', c.rule);
    city = c.value;
  }
  const dob = input.dateOfBirth;
  if (dob !== undefined) {
    const d = new Date(`${dob}T00:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(dob) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== dob)
      throw invalid('dateOfBirth', 'not a real calendar date');
    const today = now.toISOString().slice(0, 10);
    if (dob > today) throw invalid('dateOfBirth', 'is in the future');
    const age = Number(today.slice(0, 4)) - Number(dob.slice(0, 4)) - (today.slice(5) < dob.slice(5) ? 1 : 0);
    if (age > AGE_YEARS_MAX) throw invalid('dateOfBirth', `gives an age of ${age} years; at most ${AGE_YEARS_MAX} is accepted`);
  }
  const country = (field: 'country' | 'nationality'): string | undefined => {
    const v = input[field];
    if (v === undefined) return undefined;
    const code = normalizeCountryCode(v);
    if (code === null) throw invalid(field, `unknown ISO 3166-1 alpha-2 country code ${quoteForMessage(v)}`);
    return code;
  };
  return {
    ...input,
    name: name.value,
    email: input.email.trim(),
    city,
    country: country('country'),
    nationality: country('nationality'),
  };
}

const EVENT_FOR: Record<'CONFIRMED' | 'REJECTED' | 'DELETED', 'CUSTOMER_APPROVED' | 'CUSTOMER_REJECTED' | 'CUSTOMER_DELETED'> = {
  CONFIRMED: 'CUSTOMER_APPROVED',
  REJECTED: 'CUSTOMER_REJECTED',
  DELETED: 'CUSTOMER_DELETED',
};

export function createCustomers(deps: {
  db: Kysely<DB>;
  ids: IdGenerator;
  clock: Clock;
  outbox: Outbox;
  kyc: KycProvider;
  /** Seals the personal data no query needs (date of birth, city, address); reads open it. */
  sealer: Pick<FieldSealer, 'sealNullable'>;
}): Customers {
  const { db, ids, clock, outbox, sealer } = deps;

  async function transition(
    tx: Transaction<DB>,
    c: CustomerRow,
    to: 'CONFIRMED' | 'REJECTED' | 'DELETED',
    remark: string | null,
  ): Promise<CustomerRow> {
    const updated = await tx
      .updateTable('customers')
      .set({ status: to, remark: remark ?? c.remark, version: c.version + 1, updated_at: clock.now() })
      .where('id', '=', c.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await outbox.append(tx, {
      partnerId: c.partner_id,
      type: EVENT_FOR[to],
      objectType: 'customer',
      objectId: c.id,
      objectVersion: updated.version,
      payload: customerDetail(updated),
    });
    return updated;
  }

  async function findByExternalId(partnerId: string, externalId: string) {
    return db
      .selectFrom('customers')
      .selectAll()
      .where('partner_id', '=', partnerId)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
  }

  return {
    async create(partnerId, raw) {
      const input = checkCreateInput(raw, clock.now());
      if (input.externalId) {
        const existing = await findByExternalId(partnerId, input.externalId);
        if (existing) return { customer: existing, created: false };
      }
      const now = clock.now();
      try {
        const customer = await db.transaction().execute(async (tx) => {
          let row = await tx
            .insertInto('customers')
            .values({
              id: ids.next('customer'),
              partner_id: partnerId,
              external_id: input.externalId ?? null,
              name: input.name,
              email: input.email,
              type: input.type ?? 'DEPOSITOR',
              is_individual: input.isIndividual ?? true,
              dob: sealer.sealNullable(input.dateOfBirth ?? null),
              country: input.country ?? null,
              nationality: input.nationality ?? null,
              city: sealer.sealNullable(input.city ?? null),
              address: sealer.sealNullable(input.address ?? null),
              status: 'PENDING',
              remark: null,
              version: 1,
              created_at: now,
              updated_at: now,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          const outcome = await deps.kyc.submit(tx, row);
          if (outcome.decision)
            row = await transition(tx, row, outcome.decision === 'APPROVE' ? 'CONFIRMED' : 'REJECTED', outcome.remark ?? null);
          return row;
        });
        return { customer, created: true };
      } catch (err) {
        if (isUniqueViolation(err, 'customers_partner_external_uq') && input.externalId) {
          // A concurrent create with the same externalId won the race: return its customer.
          const existing = await findByExternalId(partnerId, input.externalId);
          if (existing) return { customer: existing, created: false };
        }
        if (isUniqueViolation(err, 'customers_partner_email_uq')) {
          const other = await db
            .selectFrom('customers')
            .select('id')
            .where('partner_id', '=', partnerId)
            .where((eb) => eb(eb.fn('lower', ['email']), '=', input.email.toLowerCase()))
            .executeTakeFirst();
          throw new AppError('CONFLICT', `email: a customer with this email already exists${other ? ` (${other.id})` : ''}`);
        }
        throw err;
      }
    },

    async get(partnerId, by) {
      let q = db.selectFrom('customers').selectAll().where('partner_id', '=', partnerId);
      if (by.id !== undefined) q = q.where('id', '=', by.id);
      if (by.email !== undefined) q = q.where((eb) => eb(eb.fn('lower', ['email']), '=', by.email!.toLowerCase()));
      if (by.externalId !== undefined) q = q.where('external_id', '=', by.externalId);
      const row = await q.executeTakeFirst();
      if (!row) throw notFound('customer', by.id ?? by.externalId ?? by.email ?? '');
      return row;
    },

    async list(partnerId, page, filter) {
      let q = db.selectFrom('customers').where('partner_id', '=', partnerId);
      if (filter.status) q = q.where('status', '=', filter.status as CustomerRow['status']);
      if (filter.realName) q = q.where('name', 'ilike', `%${filter.realName.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
      if (filter.createTime) {
        const from = new Date(filter.createTime);
        q = q.where('created_at', '>=', from);
      }
      if (filter.createdFrom) q = q.where('created_at', '>=', filter.createdFrom);
      if (filter.createdTo) q = q.where('created_at', '<=', filter.createdTo);
      const dir = filter.sortDirection === 'ASC' ? 'asc' : 'desc';
      return paginate<CustomerRow>(q, page, dir);
    },

    async decide(customerId, decision, remark, opts = {}) {
      return db.transaction().execute(async (tx) => {
        let q = tx.selectFrom('customers').selectAll().where('id', '=', customerId);
        if (opts.partnerId) q = q.where('partner_id', '=', opts.partnerId);
        const c = await q.forUpdate().executeTakeFirst();
        if (!c) throw notFound('customer', customerId);
        if (c.status !== 'PENDING') return false;
        await transition(tx, c, decision === 'APPROVE' ? 'CONFIRMED' : 'REJECTED', remark);
        return true;
      });
    },

    async delete(partnerId, customerId) {
      await db.transaction().execute(async (tx) => {
        const c = await tx
          .selectFrom('customers')
          .selectAll()
          .where('id', '=', customerId)
          .where('partner_id', '=', partnerId)
          .forUpdate()
          .executeTakeFirst();
        if (!c) throw notFound('customer', customerId);
        if (c.status !== 'CONFIRMED')
          throw preconditionFailed(`customer ${customerId} is ${c.status}; only CONFIRMED customers can be deleted`);
        await transition(tx, c, 'DELETED', null);
      });
    },

    async lock(tx, partnerId, customerId, strength) {
      const q = tx.selectFrom('customers').selectAll().where('id', '=', customerId).where('partner_id', '=', partnerId);
      const c = await (strength === 'update' ? q.forUpdate() : q.forShare()).executeTakeFirst();
      if (!c) throw notFound('customer', customerId);
      return c;
    },

    findById: (customerId) => db.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirst(),

    async namesByIds(customerIds) {
      if (customerIds.length === 0) return new Map();
      const rows = await db
        .selectFrom('customers')
        .select(['id', 'name'])
        .where('id', 'in', [...customerIds])
        .execute();
      return new Map(rows.map((c) => [c.id, c.name]));
    },
  };
}

/** Read for other modules (deposits, trades): one customer by id, inside the caller's transaction when given. */
export async function findCustomer(q: Kysely<DB>, customerId: string): Promise<CustomerRow | undefined> {
  return q.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirst();
}

/** For flows: a partner's customer, locked against concurrent changes (deletion) until the caller's transaction ends. */
export async function lockCustomer(tx: Transaction<DB>, partnerId: string, customerId: string): Promise<CustomerRow | undefined> {
  return tx
    .selectFrom('customers')
    .selectAll()
    .where('id', '=', customerId)
    .where('partner_id', '=', partnerId)
    .forUpdate()
    .executeTakeFirst();
}

/** Master-key rotation: re-seals every customer's sealed columns (and seals any still plain). */
export const resealCustomers: Resealer = (tx, { from, to }) =>
  resealPages(
    (after, size) => {
      let q = tx.selectFrom('customers').select(['id', 'dob', 'city', 'address']).orderBy('id').limit(size);
      if (after !== null) q = q.where('id', '>', String(after));
      return q.execute();
    },
    async (r) => {
      await tx
        .updateTable('customers')
        .set({
          dob: resealValue(r.dob, from.sealer, to.sealer),
          city: resealValue(r.city, from.sealer, to.sealer),
          address: resealValue(r.address, from.sealer, to.sealer),
        })
        .where('id', '=', r.id)
        .execute();
    },
  );
