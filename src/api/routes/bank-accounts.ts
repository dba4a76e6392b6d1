import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ok, pageFrom, pageOf, partnerId } from '../http.ts';
import { Enum, Id, OptStr, PageQuery, responses } from '../schemas.ts';
import { CreatedRangeQuery, createdRangeOf } from '../list-query.ts';
import { bankAccountDetail, type BankAccounts } from '../../domain/bank-accounts/bank-accounts.ts';
import { FIAT_ASSETS } from '../../infra/lib/money.ts';

// Formats and per-currency requirements are checked by bank-accounts/validation/, which names
// the field and the rule; the schema only pins types and sizes.
const AddBody = Type.Object({
  customerId: Id('Customer id'),
  currency: Enum(FIAT_ASSETS, 'Payout currency (CAD is an OpenRamp extension)'),
  bankName: OptStr({ max: 140 }),
  accountNo: OptStr({ max: 64 }),
  accountName: OptStr({ max: 140, description: "Account holder name (alias: beneficiaryName); defaults to the customer's name" }),
  beneficiaryName: OptStr({ max: 140 }),
  swift: OptStr({ max: 11 }),
  iban: OptStr({ max: 42 }),
  aba: OptStr({ max: 9 }),
  sortCode: OptStr({ max: 8 }),
  bsb: OptStr({ max: 7 }),
  institutionNumber: OptStr({ max: 3 }),
  transit: OptStr({ max: 5 }),
  bankCountry: OptStr({ max: 2 }),
  bankAddress: OptStr({ max: 300 }),
  beneficiaryAddress: OptStr({ max: 300 }),
  interBankName: OptStr({ max: 140 }),
  interBankBic: OptStr({ max: 11 }),
  interBankAccountNo: OptStr({ max: 64 }),
  label: OptStr({ max: 140 }),
  statementFile: Type.Optional(Type.Any({ description: 'Bank statement (multipart file); kept by name only' })),
});

const DetailQuery = Type.Object({ id: Id('Bank account id'), customerId: Type.Optional(Id('Customer id')) });
const ListQuery = Type.Object({
  ...PageQuery,
  customerId: Type.Optional(Id('Customer id')),
  currency: Type.Optional(Enum(FIAT_ASSETS)),
  ...CreatedRangeQuery,
});

export const bankAccountRoutes: FastifyPluginAsync<{ bankAccounts: BankAccounts }> = async (app, { bankAccounts }) => {
  app.post<{ Body: Static<typeof AddBody> }>(
    '/bank-account/add',
    {
      schema: {
        tags: ['Bank Account'],
        summary: "Add a customer's bank account (JSON or multipart/form-data); payee-verified against the customer's name",
        consumes: ['application/json', 'multipart/form-data'],
        body: AddBody,
        response: responses(),
      },
    },
    async (req) => {
      const { statementFile: _file, ...fields } = req.body;
      const file = req.uploadedFiles?.find((f) => f.field === 'statementFile');
      const row = await bankAccounts.add(partnerId(req), {
        ...fields,
        customerId: req.body.customerId,
        statementFileName: file?.filename ?? null,
      });
      return ok({ ...bankAccountDetail(row), bankAccountId: row.id }, { bankAccountId: row.id });
    },
  );

  app.get<{ Querystring: Static<typeof DetailQuery> }>(
    '/bank-account/detail',
    { schema: { tags: ['Bank Account'], summary: 'Bank account detail', querystring: DetailQuery, response: responses() } },
    async (req) => ok(bankAccountDetail(await bankAccounts.get(partnerId(req), req.query.id, req.query.customerId))),
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/bank-account/list',
    { schema: { tags: ['Bank Account'], summary: 'List bank accounts (paginated)', querystring: ListQuery, response: responses() } },
    async (req) => {
      const q = req.query;
      return pageOf(
        await bankAccounts.list(partnerId(req), pageFrom(q), { customerId: q.customerId, currency: q.currency, ...createdRangeOf(q) }),
        bankAccountDetail,
      );
    },
  );
};
