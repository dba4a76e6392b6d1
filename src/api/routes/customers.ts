import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ok, pageFrom, pageOf, partnerId } from '../http.ts';
import { Enum, Id, PageQuery, Str, responses } from '../schemas.ts';
import { CreatedRangeQuery, createdRangeOf } from '../list-query.ts';
import { customerDetail, customerListItem, type Customers } from '../../domain/customers/customers.ts';
import { AppError } from '../../infra/lib/errors.ts';

const CreateCustomerBody = Type.Object({
  name: Str({ max: 200, description: 'Full legal name' }),
  email: Type.String({ format: 'email', maxLength: 254 }),
  type: Type.Optional(Enum(['DEPOSITOR', 'PAYEE'] as const)),
  isIndividual: Type.Optional(Type.Boolean()),
  externalId: Type.Optional(Str({ max: 128, description: 'Your id for this customer; a repeat create returns the existing customer' })),
  sumsubShareToken: Type.Optional(Type.String({ maxLength: 2000 })),
  dateOfBirth: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' })),
  // The code itself is checked by the customers module, which names the rule and upper-cases it.
  country: Type.Optional(Str({ max: 2, description: 'ISO 3166-1 alpha-2, any case (stored upper-case)' })),
  nationality: Type.Optional(Str({ max: 2, description: 'ISO 3166-1 alpha-2, any case (stored upper-case)' })),
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
  ...CreatedRangeQuery,
});

export const customerRoutes: FastifyPluginAsync<{ customers: Customers }> = async (app, { customers }) => {
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
      const { customer } = await customers.create(partnerId(req), {
        name: b.name,
        email: b.email,
        type: b.type,
        isIndividual: b.isIndividual,
        externalId: b.externalId,
        dateOfBirth: b.dateOfBirth,
        country: b.country,
        nationality: b.nationality,
        city: b.city,
        address: b.address,
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
      const c = await customers.get(partnerId(req), { id, email, externalId });
      return ok(customerDetail(c));
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/customer/list',
    { schema: { tags: ['Customer'], summary: 'List customers (paginated)', querystring: ListQuery, response: responses() } },
    async (req) => {
      const q = req.query;
      const result = await customers.list(partnerId(req), pageFrom(q), {
        status: q.status,
        realName: q.realName,
        createTime: q.createTime,
        sortDirection: q.sortDirection,
        ...createdRangeOf(q),
      });
      return pageOf(result, customerListItem);
    },
  );
};
