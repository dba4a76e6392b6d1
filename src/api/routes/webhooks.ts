import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ok, pageFrom, pageOf, partnerId } from '../http.ts';
import { Enum, Id, PageQuery, responses } from '../schemas.ts';
import { AppError } from '../../infra/lib/errors.ts';
import { CreatedRangeQuery, createdRangeOf } from '../list-query.ts';
import type { Webhooks } from '../../domain/webhooks/webhooks.ts';

/**
 * Extensions (docs/api-contract.md, docs/webhooks.md): the webhook delivery log, manual redelivery and the pull feed of
 * events. Same conventions as the contract: signed, camelCase, `{status, data}`.
 */
const DeliveryListQuery = Type.Object({
  ...PageQuery,
  eventId: Type.Optional(Id('Only deliveries of this event (evt_…)')),
  status: Type.Optional(Enum(['PENDING', 'SUCCEEDED', 'FAILED'] as const, 'Only deliveries in this state')),
  ...CreatedRangeQuery,
});

const IsoTime = (description: string) => Type.String({ format: 'date-time', maxLength: 64, description });

// Either one event or a time range: each branch names what it requires.
const RedeliverBody = Type.Object(
  {
    eventId: Type.Optional(Id('Redeliver this event (evt_…), whatever the subscriptions')),
    from: Type.Optional(IsoTime('Redeliver subscribed events created at or after this time (ISO 8601); needs `to`')),
    to: Type.Optional(IsoTime('… and at or before this time (ISO 8601)')),
  },
  { anyOf: [{ required: ['eventId'] }, { required: ['from', 'to'] }], description: '`{eventId}` or `{from, to}`' },
);

const EventListQuery = Type.Object({
  after: Type.Optional(
    Type.String({
      pattern: '^[0-9]{1,19}$',
      maxLength: 19,
      description: 'Cursor: `nextCursor` of the previous page; omit to start from the beginning',
    }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100, description: 'Events per page (max 500)' })),
});

const CURSOR_MAX = (1n << 63n) - 1n;

export const webhookRoutes: FastifyPluginAsync<{ webhooks: Webhooks }> = async (app, { webhooks }) => {
  app.get<{ Querystring: Static<typeof DeliveryListQuery> }>(
    '/webhook-delivery/list',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'Webhook deliveries, newest first, each with its attempts (status code, latency, error, response excerpt)',
        querystring: DeliveryListQuery,
        response: responses(),
      },
    },
    async (req) => {
      const { eventId, status } = req.query;
      const result = await webhooks.listDeliveries(partnerId(req), {
        page: pageFrom(req.query),
        eventId,
        status,
        ...createdRangeOf(req.query),
      });
      return pageOf(result, (d) => d);
    },
  );

  app.post<{ Body: Static<typeof RedeliverBody> }>(
    '/webhook-delivery/redeliver',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'Queue new deliveries now for one event or a time range (same webhook-id); returns the count',
        body: RedeliverBody,
        response: responses(),
      },
    },
    async (req) => {
      const { eventId, from, to } = req.body;
      if (eventId !== undefined && (from !== undefined || to !== undefined))
        throw new AppError('INVALID_PARAMETERS', 'eventId: give either eventId or from and to, not both');
      if (eventId !== undefined) return ok(await webhooks.redeliver(partnerId(req), { eventId }));
      const range = { from: new Date(from!), to: new Date(to!) };
      for (const k of ['from', 'to'] as const)
        if (Number.isNaN(range[k].getTime())) throw new AppError('INVALID_PARAMETERS', `${k}: not a valid time`);
      return ok(await webhooks.redeliver(partnerId(req), range));
    },
  );

  app.get<{ Querystring: Static<typeof EventListQuery> }>(
    '/event/list',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'Pull feed: your events in order after a cursor, each {id, event, createdAt, payload}; returns nextCursor',
        querystring: EventListQuery,
        response: responses(),
      },
    },
    async (req) => {
      const after = BigInt(req.query.after ?? '0');
      if (after > CURSOR_MAX) throw new AppError('INVALID_PARAMETERS', 'after: not a cursor returned by this API');
      return ok(await webhooks.listEvents(partnerId(req), { after, limit: req.query.limit ?? 100 }));
    },
  );
};
