import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Registry } from 'prom-client';
import { ok, partnerId } from '../http.ts';
import { responses } from '../schemas.ts';
import { SUBSCRIBABLE_EVENTS } from '../../infra/events/outbox.ts';
import type { Partners } from '../../domain/partners/partners.ts';
import type { Balances } from '../../domain/ledger/balances.ts';

const CallbackBody = Type.Object({ callbackUrl: Type.String({ maxLength: 2048, description: 'Webhook URL; empty string clears it' }) });
const EventsBody = Type.Object({ events: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }) });
/**
 * The event names the contract's SubscribedEventsDto enumerates. `GET /subscribed-events` lists
 * subscriptions to our extension events (docs/state-machines.md) in `extensionEvents`, so `events` conforms.
 */
const CONTRACT_EVENTS: ReadonlySet<string> = new Set([
  'CUSTOMER_APPROVED',
  'CUSTOMER_REJECTED',
  'CUSTOMER_DELETED',
  'DEPOSIT_ADDRESS_APPROVED',
  'DEPOSIT_ADDRESS_REJECTED',
  'DEPOSIT_RECEIVED',
  'DEPOSIT_APPROVED',
  'DEPOSIT_REJECTED',
  'TRADE_CREATED',
  'TRADE_SETTLED',
]);
const IpBody = Type.Object({
  ipWhiteList: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100, description: 'IPs or CIDR ranges; empty = no restriction' }),
});

export interface CommonRouteDeps {
  partners: Pick<Partners, 'get' | 'updateCallbackUrl' | 'updateSubscribedEvents' | 'updateIpWhitelist'>;
  balances: Pick<Balances, 'forPartner'>;
  /** Resolves when the database answers. */
  pingDatabase: () => Promise<void>;
  mode: 'sandbox' | 'production';
  version: string;
  metrics: Registry;
}

export const commonRoutes: FastifyPluginAsync<CommonRouteDeps> = async (
  app,
  { partners, balances, pingDatabase, mode, version, metrics },
) => {
  app.get(
    '/health',
    { config: { auth: 'none' }, schema: { tags: ['Common'], summary: 'Liveness and database check (unsigned)' } },
    async (_req, reply) => {
      try {
        await pingDatabase();
        return ok({ status: 'ok', mode, version, database: 'ok' });
      } catch {
        return reply.code(503).send({ status: 'FAILED', message: 'database unavailable' });
      }
    },
  );

  app.get('/metrics', { config: { auth: 'none' }, schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', metrics.contentType);
    return metrics.metrics();
  });

  app.get('/basic-info', { schema: { tags: ['Common'], summary: 'The authenticated partner', response: responses() } }, async (req) => {
    const p = await partners.get(partnerId(req));
    return ok({ name: p.name, partnerId: p.id, mode, createTime: p.createdAt.toISOString() });
  });

  app.get('/balance', { schema: { tags: ['Common'], summary: 'Partner balances per asset', response: responses() } }, async (req) =>
    ok(await balances.forPartner(partnerId(req))),
  );

  app.get('/callback-url', { schema: { tags: ['Common'], summary: 'Webhook callback URL', response: responses() } }, async (req) => {
    const p = await partners.get(partnerId(req));
    return ok({ callbackUrl: p.callbackUrl ?? '' });
  });

  app.post<{ Body: Static<typeof CallbackBody> }>(
    '/callback-url',
    { schema: { tags: ['Common'], summary: 'Set the webhook callback URL', body: CallbackBody, response: responses() } },
    async (req) => {
      const url = await partners.updateCallbackUrl(partnerId(req), req.body.callbackUrl);
      return ok({ message: url === '' ? 'callback URL cleared' : 'callback URL updated', callbackUrl: url });
    },
  );

  app.get(
    '/subscribed-events',
    { schema: { tags: ['Common'], summary: 'Subscribed webhook events', response: responses() } },
    async (req) => {
      const p = await partners.get(partnerId(req));
      return ok({
        events: p.subscribedEvents.filter((e) => CONTRACT_EVENTS.has(e)),
        extensionEvents: p.subscribedEvents.filter((e) => !CONTRACT_EVENTS.has(e)),
        available: SUBSCRIBABLE_EVENTS,
      });
    },
  );

  app.post<{ Body: Static<typeof EventsBody> }>(
    '/subscribed-events',
    { schema: { tags: ['Common'], summary: 'Replace the subscribed webhook events', body: EventsBody, response: responses() } },
    async (req) =>
      ok({ message: 'subscribed events updated', events: await partners.updateSubscribedEvents(partnerId(req), req.body.events) }),
  );

  app.get(
    '/ip-white-list',
    { schema: { tags: ['Common'], summary: 'IP whitelist (empty = no restriction)', response: responses() } },
    async (req) => {
      const p = await partners.get(partnerId(req));
      return ok({ ipWhiteList: p.ipWhitelist });
    },
  );

  app.post<{ Body: Static<typeof IpBody> }>(
    '/ip-white-list',
    { schema: { tags: ['Common'], summary: 'Replace the IP whitelist', body: IpBody, response: responses() } },
    async (req) => {
      const ips = await partners.updateIpWhitelist(partnerId(req), req.body.ipWhiteList);
      return ok({ message: ips.length === 0 ? 'IP whitelist cleared (no restriction)' : 'IP whitelist updated', ipWhiteList: ips });
    },
  );
};
