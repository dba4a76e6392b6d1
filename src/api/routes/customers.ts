import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RouteDeps } from '../app.ts';
import { ok, pageFrom, pageOf, partnerId } from '../http.ts';
import { Enum, Id, PageQuery, Str, responses } from '../schemas.ts';
import { customerDetail, customerListItem } from '../../domain/customers/customers.ts';
import { AppError } from '../../infra/lib/errors.ts';
import { isCountryCode } from '../../infra/lib/countries.ts';

const CreateCustomerBody = Type.Object({
  name: Str({ max: 200, description: 'Full legal name' }),
  email: Type.String({ format: 'email', maxLength: 254 }),
  type: Type.Optional(Enum(['DEPOSITOR', 'PAYEE'] as const)),
  isIndividual: Type.Optional(Type.Boolean()),
  externalId: Type.Optional(Str({ max: 128, description: 'Your id for this customer; a repeat create returns the existing customer' })),
  sumsubShareToken: Type.Optional(Type.String({ maxLength: 2000 })),
  dateOfBirth: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' })),
  country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' })),
  nationality: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' })),
  city: Type.Optional(Str({ max: 100 })),
  address: Type.Optional(Str({ max: 300 })),
});

const DetailQuery = Type.Object({
  id: Type.Optional(Id('Customer id')),
  email: Type.Optional(Str({ max: 254 })),
  externalId: Type.Optional(Str({ max: 128 })),
});

const ListQuery = Type.Object({
  ...PageQuery,
  sortField: Type.Optional(Enum(['createTime'] as const)),
  sortDirection: Type.Optional(Enum(['ASC', 'DESC'] as const)),
  status: Type.Optional(Enum(['PENDING', 'CONFIRMED', 'REJECTED', 'DELETED'] as const)),
  createTime: Type.Optional(Type.String({ format: 'date-time', description: 'customers created at or after (ISO 8601)' })),
  realName: Type.Optional(Str({ max: 200 })),
});

function checkDate(field: string, v: string | undefined) {
  if (v === undefined) return;
  const d = new Date(`${v}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v)
    throw new AppError('INVALID_PARAMETERS', `${field}: not a real calendar date`);
  if (d.getTime() > Date.now()) throw new AppError('INVALID_PARAMETERS', `${field}: is in the future`);
}

export const customerRoutes: FastifyPluginAsync<RouteDeps> = async (app, { services }) => {
  app.post<{ Body: Static<typeof CreateCustomerBody> }>(
    '/customer/create',
    {
      schema: {
        tags: ['Customer'],
        summary: 'Create a customer (KYC starts; CUSTOMER_APPROVED/REJECTED follows)',
        body: CreateCustomerBody,
        response: responses(),
      },
    },
    async (req) => {
      const b = req.body;
      checkDate('dateOfBirth', b.dateOfBirth);
      for (const f of ['country', 'nationality'] as const) {
        const v = b[f];
        if (v !== undefined && !isCountryCode(v))
          throw new AppError('INVALID_PARAMETERS', `${f}: unknown ISO 3166-1 alpha-2 country code "${v}"`);
      }
      if (/[\u0000-\u001f\u007f]/.test(b.name)) throw new AppError('INVALID_PARAMETERS', 'name: must not contain control characters');
      const { customer } = await services.customers.create(partnerId(req), {
        name: b.name.trim(),
        email: b.email.trim(),
        ...(b.type ? { type: b.type } : {}),
        ...(b.isIndividual !== undefined ? { isIndividual: b.isIndividual } : {}),
        ...(b.externalId ? { externalId: b.externalId } : {}),
        ...(b.dateOfBirth ? { dateOfBirth: b.dateOfBirth } : {}),
        ...(b.country ? { country: b.country } : {}),
        ...(b.nationality ? { nationality: b.nationality } : {}),
        ...(b.city ? { city: b.city } : {}),
        ...(b.address ? { address: b.address } : {}),
      });
      return ok(
        { id: customer.id, customerId: customer.id, status: customer.status, externalId: customer.external_id ?? undefined },
        { customerId: customer.id },
      );
    },
  );

  app.get<{ Querystring: Static<typeof DetailQuery> }>(
    '/customer/detail',
    {
      schema: {
        tags: ['Customer'],
        summary: 'Customer detail by id, email or externalId',
        querystring: DetailQuery,
        response: responses(),
      },
    },
    async (req) => {
      const { id, email, externalId } = req.query;
      if (id === undefined && email === undefined && externalId === undefined)
        throw new AppError('INVALID_PARAMETERS', 'id, email or externalId: one is required');
      const c = await services.customers.get(partnerId(req), {
        ...(id !== undefined ? { id } : {}),
        ...(email !== undefined ? { email } : {}),
        ...(externalId !== undefined ? { externalId } : {}),
      });
      return ok(customerDetail(c));
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/customer/list',
    { schema: { tags: ['Customer'], summary: 'List customers (paginated)', querystring: ListQuery, response: responses() } },
    async (req) => {
      const q = req.query;
      const result = await services.customers.list(partnerId(req), pageFrom(q), {
        ...(q.status ? { status: q.status } : {}),
        ...(q.realName ? { realName: q.realName } : {}),
        ...(q.createTime ? { createTime: q.createTime } : {}),
        ...(q.sortDirection ? { sortDirection: q.sortDirection } : {}),
      });
      return pageOf(result, customerListItem);
    },
  );
};
