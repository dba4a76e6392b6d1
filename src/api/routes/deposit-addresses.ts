import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ok, pageFrom, pageOf, partnerId } from '../http.ts';
import { Enum, Id, PageQuery, responses } from '../schemas.ts';
import { CreatedRangeQuery, createdRangeOf } from '../list-query.ts';
import { depositAddressDetail, type DepositAddresses } from '../../domain/deposit-addresses/deposit-addresses.ts';
import { NETWORKS } from '../../adapters/chains/networks.ts';
import { CRYPTO_ASSETS } from '../../infra/lib/money.ts';

const CreateBody = Type.Object({ customerId: Id('Customer id'), currency: Enum(CRYPTO_ASSETS), network: Enum(NETWORKS) });
const DetailQuery = Type.Object({ id: Id('Deposit address id') });
const ListQuery = Type.Object({ ...PageQuery, customerId: Type.Optional(Id('Customer id')), ...CreatedRangeQuery });

export const depositAddressRoutes: FastifyPluginAsync<{ depositAddresses: Pick<DepositAddresses, 'create' | 'get' | 'list'> }> = async (
  app,
  { depositAddresses },
) => {
  app.post<{ Body: Static<typeof CreateBody> }>(
    '/deposit-address/create',
    {
      schema: {
        tags: ['Deposit Address'],
        summary: 'Create (or return) the customer’s deposit address for a network and token',
        body: CreateBody,
        response: responses(),
      },
    },
    async (req) => ok(depositAddressDetail(await depositAddresses.create(partnerId(req), req.body))),
  );
  app.get<{ Querystring: Static<typeof DetailQuery> }>(
    '/deposit-address/detail',
    { schema: { tags: ['Deposit Address'], summary: 'Deposit address detail', querystring: DetailQuery, response: responses() } },
    async (req) => ok(depositAddressDetail(await depositAddresses.get(partnerId(req), req.query.id))),
  );
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/deposit-address/list',
    { schema: { tags: ['Deposit Address'], summary: 'List deposit addresses (paginated)', querystring: ListQuery, response: responses() } },
    async (req) =>
      pageOf(
        await depositAddresses.list(partnerId(req), pageFrom(req.query), {
          customerId: req.query.customerId,
          ...createdRangeOf(req.query),
        }),
        depositAddressDetail,
      ),
  );
};
