import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ok, pageFrom, pageOf } from '../http.ts';
import { Enum, Id, PageQuery, Str } from '../schemas.ts';
import { customerDetail, type Customers } from '../../domain/customers/customers.ts';
import type { Partners } from '../../domain/partners/partners.ts';
import type { Deposits } from '../../domain/deposits/deposits.ts';
import { payoutDetail, type PayoutBatchFiles, type Payouts } from '../../domain/payouts/payouts.ts';
import { PAYOUT_STATUSES } from '../../domain/payouts/state-machine.ts';
import type { Ledger } from '../../domain/ledger/ledger.ts';
import type { FeeSchedules } from '../../adapters/pricing/fees.ts';
import { notFound, preconditionFailed } from '../../infra/lib/errors.ts';
import { FIAT_ASSETS, parseAmountInput } from '../../infra/lib/money.ts';
import { RAILS, RAIL_IDS } from '../../adapters/rails/rails.ts';
import { FEE_BPS_MAX, parseFeeScheduleInput, partnerFeeScheduleView } from '../../adapters/pricing/fees.ts';

/**
 * Operator API (bearer token). The CLI uses it to act on a running server — PGlite is
 * single-process, so the CLI must not open the data folder while a server holds it.
 */
const PartnerBody = Type.Object({ name: Str({ max: 200 }) });
const PartnerParams = Type.Object({ partnerId: Id('Partner id') });
const KeyParams = Type.Object({ partnerId: Id('Partner id'), keyId: Id('API key id') });
const DecideBody = Type.Object({ decision: Enum(['APPROVE', 'REJECT'] as const), remark: Type.Optional(Str({ max: 500 })) });
const CustomerParams = Type.Object({ customerId: Id('Customer id') });

const DepositParams = Type.Object({ depositId: Id('Deposit id') });
const FundBody = Type.Object({
  currency: Enum(FIAT_ASSETS),
  amount: Str({ max: 40, description: 'Decimal, e.g. "250000.00"' }),
  reference: Type.Optional(Str({ max: 64 })),
});
const BatchParams = Type.Object({ batchId: Id('Payout batch id') });
const IdempotencyBody = Type.Object(
  { required: Type.Boolean({ description: 'true: POSTs without an Idempotency-Key are refused (422 IDEMPOTENCY_KEY_REQUIRED)' }) },
  { additionalProperties: false },
);
const PayoutParams = Type.Object({ payoutId: Id('Payout id') });
const PayoutListQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(Enum(PAYOUT_STATUSES, 'Only payouts in this state (HELD: the payouts waiting for an operator)')),
  partnerId: Type.Optional(Id('Only this partner’s payouts')),
});
const ReleaseBody = Type.Object(
  { bankAccountId: Type.Optional(Id('Another bank account of the same customer and currency (the corrected one)')) },
  { additionalProperties: false },
);
const CancelBody = Type.Object({
  reason: Str({ max: 500, description: 'Why the payout is not sent (kept on the payout and in its event)' }),
});
const RefundBody = Type.Object({ refundTxHash: Str({ max: 100, description: 'Hash of the on-chain refund transaction' }) });

export interface OperatorRouteDeps {
  partners: Pick<
    Partners,
    'create' | 'list' | 'listApiKeys' | 'createApiKey' | 'revokeApiKey' | 'rotateWebhookSecret' | 'setIdempotencyRequired'
  >;
  payouts: Pick<Payouts, 'treasury' | 'fundTreasury' | 'listAll' | 'release' | 'cancel'>;
  payoutBatches: PayoutBatchFiles;
  ledger: Pick<Ledger, 'reconcile'>;
  deposits: Pick<Deposits, 'recordRefund' | 'detail'>;
  customers: Pick<Customers, 'decide' | 'findById'>;
  fees: Pick<FeeSchedules, 'get' | 'set' | 'remove'>;
}

export const operatorRoutes: FastifyPluginAsync<OperatorRouteDeps> = async (
  app,
  { partners, payouts, payoutBatches, ledger, deposits, customers, fees },
) => {
  const config = { auth: 'operator' as const };
  const tags = ['Operator'];

  app.post<{ Body: Static<typeof PartnerBody> }>(
    '/ops/partners',
    { config, schema: { tags, summary: 'Create a partner (credentials shown once)', body: PartnerBody } },
    async (req) => ok(await partners.create(req.body.name)),
  );
  app.get('/ops/partners', { config, schema: { tags, summary: 'List partners' } }, async () => ok(await partners.list()));
  app.get<{ Params: Static<typeof PartnerParams> }>(
    '/ops/partners/:partnerId/api-keys',
    { config, schema: { tags, params: PartnerParams } },
    async (req) => ok(await partners.listApiKeys(req.params.partnerId)),
  );
  app.post<{ Params: Static<typeof PartnerParams> }>(
    '/ops/partners/:partnerId/api-keys',
    { config, schema: { tags, summary: 'Add an API key (max two active, for rotation)', params: PartnerParams } },
    async (req) => ok(await partners.createApiKey(req.params.partnerId)),
  );
  app.post<{ Params: Static<typeof KeyParams> }>(
    '/ops/partners/:partnerId/api-keys/:keyId/revoke',
    { config, schema: { tags, params: KeyParams } },
    async (req) => {
      await partners.revokeApiKey(req.params.partnerId, req.params.keyId);
      return ok({ keyId: req.params.keyId, status: 'REVOKED' });
    },
  );
  app.post<{ Params: Static<typeof PartnerParams> }>(
    '/ops/partners/:partnerId/webhook-secret/rotate',
    { config, schema: { tags, summary: 'Rotate the whsec_ secret (old one keeps signing during the overlap)', params: PartnerParams } },
    async (req) => ok({ webhookSecret: await partners.rotateWebhookSecret(req.params.partnerId) }),
  );
  app.post<{ Params: Static<typeof PartnerParams>; Body: Static<typeof IdempotencyBody> }>(
    '/ops/partners/:partnerId/idempotency',
    {
      config,
      schema: {
        tags,
        summary: "Require (or stop requiring) an Idempotency-Key on the partner's POSTs",
        params: PartnerParams,
        body: IdempotencyBody,
      },
    },
    async (req) => {
      await partners.setIdempotencyRequired(req.params.partnerId, req.body.required);
      return ok({ partnerId: req.params.partnerId, idempotencyRequired: req.body.required });
    },
  );
  app.get(
    '/ops/treasury',
    { config, schema: { tags, summary: 'Treasury per currency: bank balance, in transit, available, payouts waiting for funds' } },
    async () => ok(await payouts.treasury()),
  );
  app.post<{ Body: Static<typeof FundBody> }>(
    '/ops/treasury/fund',
    { config, schema: { tags, summary: 'Record treasury funding (a journal); waiting payouts resume', body: FundBody } },
    async (req) => {
      const amount = parseAmountInput(req.body.currency, req.body.amount);
      const r = await payouts.fundTreasury(req.body.currency, amount, req.body.reference);
      return ok({
        journalId: r.journalId,
        currency: req.body.currency,
        treasury: (await payouts.treasury()).find((t) => t.currency === req.body.currency),
      });
    },
  );
  // Payouts the rail's file writer refused wait in HELD for one of these (docs/rails.md).
  app.get<{ Querystring: Static<typeof PayoutListQuery> }>(
    '/ops/payouts',
    {
      config,
      schema: { tags, summary: 'Payouts of every partner, newest first (status=HELD: the work queue)', querystring: PayoutListQuery },
    },
    async (req) =>
      pageOf(await payouts.listAll(pageFrom(req.query), { status: req.query.status, partnerId: req.query.partnerId }), (p) => ({
        partnerId: p.partner_id,
        ...payoutDetail(p),
      })),
  );
  app.post<{ Params: Static<typeof PayoutParams>; Body: Static<typeof ReleaseBody> }>(
    '/ops/payouts/:payoutId/release',
    {
      config,
      schema: {
        tags,
        summary:
          'Send a HELD payout again (→ PENDING), optionally to a corrected bank account; refused while the file writer still refuses it',
        params: PayoutParams,
        body: ReleaseBody,
      },
    },
    async (req) => ok(payoutDetail(await payouts.release(req.params.payoutId, req.body?.bankAccountId))),
  );
  app.post<{ Params: Static<typeof PayoutParams>; Body: Static<typeof CancelBody> }>(
    '/ops/payouts/:payoutId/cancel',
    {
      config,
      schema: {
        tags,
        summary: 'Cancel a HELD payout (→ CANCELLED): nothing is sent, the money is owed to the customer again',
        params: PayoutParams,
        body: CancelBody,
      },
    },
    async (req) => ok(payoutDetail(await payouts.cancel(req.params.payoutId, req.body.reason))),
  );
  app.get(
    '/ops/reconcile',
    { config, schema: { tags, summary: 'Ledger reconciliation: journals balance, liabilities match deposits, trades and payouts' } },
    async () => ok(await ledger.reconcile()),
  );
  app.get('/ops/payout-batches', { config, schema: { tags, summary: 'Payment files sent to the banks' } }, async () =>
    ok(await payoutBatches.list()),
  );
  app.get<{ Params: Static<typeof BatchParams> }>(
    '/ops/payout-batches/:batchId/file',
    { config, schema: { tags, summary: 'Download a payment file', params: BatchParams } },
    async (req, reply) => {
      const b = await payoutBatches.file(req.params.batchId);
      reply.header('content-type', b.fileFormat === 'pain001' ? 'application/xml' : 'text/plain; charset=us-ascii');
      reply.header('content-disposition', `attachment; filename="${b.fileName}"`);
      return b.content;
    },
  );
  app.post<{ Params: Static<typeof DepositParams>; Body: Static<typeof RefundBody> }>(
    '/ops/deposits/:depositId/refund',
    {
      config,
      schema: {
        tags,
        summary: 'Record the refund of an ACTION_REQUIRED deposit (→ REJECTED/REFUNDED)',
        params: DepositParams,
        body: RefundBody,
      },
    },
    async (req) => {
      const row = await deposits.recordRefund(req.params.depositId, req.body.refundTxHash);
      return ok(await deposits.detail(row));
    },
  );
  app.post<{ Params: Static<typeof CustomerParams>; Body: Static<typeof DecideBody> }>(
    '/ops/customers/:customerId/kyc-decision',
    { config, schema: { tags, summary: 'Record a manual KYC decision', params: CustomerParams, body: DecideBody } },
    async (req) => {
      const changed = await customers.decide(
        req.params.customerId,
        req.body.decision,
        req.body.remark ?? `operator decision: ${req.body.decision}`,
      );
      if (!changed) throw preconditionFailed(`customer ${req.params.customerId} is not PENDING`);
      const row = await customers.findById(req.params.customerId);
      if (!row) throw notFound('customer', req.params.customerId);
      return ok(customerDetail(row));
    },
  );

  // Fee schedules (docs/pricing.md): spread and partner fee in bps of gross, a fixed fee per payout rail.
  const Bps = (description: string) => Type.Integer({ minimum: 0, maximum: FEE_BPS_MAX, description });
  const FeeScheduleBody = Type.Object(
    {
      spreadBps: Bps('Spread, basis points of the gross fiat amount (0–1000)'),
      partnerFeeBps: Type.Optional(Bps('Partner fee (owed to the partner), basis points of gross (0–1000); default 0')),
      fixedFees: Type.Optional(
        Type.Object(
          Object.fromEntries(
            RAIL_IDS.map((r) => [
              r,
              Type.Optional(Str({ max: 24, description: `Fixed fee in ${RAILS[r].currency}, decimal string, e.g. "0.25"` })),
            ]),
          ),
          {
            additionalProperties: false,
            description: 'Fixed fee per payout rail; rails left out take the default (OPENRAMP_FEE_FIXED_<RAIL>)',
          },
        ),
      ),
    },
    { additionalProperties: false },
  );
  app.get<{ Params: Static<typeof PartnerParams> }>(
    '/ops/partners/:partnerId/fee-schedule',
    { config, schema: { tags, summary: "A partner's effective fee schedule (its own, or the configured default)", params: PartnerParams } },
    async (req) => ok(partnerFeeScheduleView(await fees.get(req.params.partnerId))),
  );
  app.post<{ Params: Static<typeof PartnerParams>; Body: Static<typeof FeeScheduleBody> }>(
    '/ops/partners/:partnerId/fee-schedule',
    {
      config,
      schema: {
        tags,
        summary: "Set (replace) a partner's fee schedule; applies to trades created from now on",
        params: PartnerParams,
        body: FeeScheduleBody,
      },
    },
    async (req) => ok(partnerFeeScheduleView(await fees.set(req.params.partnerId, parseFeeScheduleInput(req.body)))),
  );
  app.post<{ Params: Static<typeof PartnerParams> }>(
    '/ops/partners/:partnerId/fee-schedule/reset',
    { config, schema: { tags, summary: "Drop a partner's own fee schedule (back to the configured default)", params: PartnerParams } },
    async (req) => {
      const removed = await fees.remove(req.params.partnerId);
      return ok({ removed, schedule: partnerFeeScheduleView(await fees.get(req.params.partnerId)) });
    },
  );
};
