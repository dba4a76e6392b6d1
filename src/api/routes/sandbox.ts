import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ok, partnerId } from '../http.ts';
import { Enum, Id, responses } from '../schemas.ts';
import { customerDetail, type Customers } from '../../domain/customers/customers.ts';
import { preconditionFailed } from '../../infra/lib/errors.ts';

/** Sandbox controls (docs/configuration.md): signed like every route, refused in production mode. */
const DecideBody = Type.Object({ customerId: Id('Customer id'), decision: Enum(['APPROVE', 'REJECT'] as const) });

export const sandboxRoutes: FastifyPluginAsync<{ customers: Pick<Customers, 'decide' | 'get'> }> = async (app, { customers }) => {
  app.post<{ Body: Static<typeof DecideBody> }>(
    '/sandbox/customer/decide',
    {
      config: { sandboxOnly: true },
      schema: { tags: ['Sandbox'], summary: 'Decide a PENDING customer’s KYC now', body: DecideBody, response: responses() },
    },
    async (req) => {
      const pid = partnerId(req);
      const changed = await customers.decide(req.body.customerId, req.body.decision, `sandbox decision: ${req.body.decision}`, {
        partnerId: pid,
      });
      const c = await customers.get(pid, { id: req.body.customerId });
      if (!changed) throw preconditionFailed(`customer ${c.id} is already ${c.status}`);
      return ok(customerDetail(c));
    },
  );
};
