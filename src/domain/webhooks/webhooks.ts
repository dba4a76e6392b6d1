import type { Kysely } from 'kysely';
import type { DB } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import type { CreatedRange, Page, PageResult } from '../../infra/lib/pagination.ts';
import { AppError, notFound, preconditionFailed } from '../../infra/lib/errors.ts';
import type { EventHorizon } from './horizon.ts';
import { deliveredPayload } from './signing.ts';
import type { Partners } from '../partners/partners.ts';

/**
 * The partner-facing side of webhooks: the delivery log, manual redelivery and the pull feed
 * (`GET /event/list`), all scoped to one partner.
 */
export type DeliveryStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

export interface DeliveryAttemptView {
  attempt: number;
  url: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseExcerpt: string | null;
  createTime: string;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  event: string;
  status: DeliveryStatus;
  /** AUTOMATIC (from the event stream) or MANUAL (a redelivery). */
  trigger: 'AUTOMATIC' | 'MANUAL';
  attemptCount: number;
  nextAttemptTime: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createTime: string;
  updateTime: string;
  completeTime: string | null;
  attempts: DeliveryAttemptView[];
}

export interface FeedEvent {
  id: string;
  event: string;
  createdAt: string;
  payload: Record<string, unknown>;
}

export interface EventPage {
  list: FeedEvent[];
  /** Pass as `after` to get the next events; every event appears once, in order. */
  nextCursor: string;
  hasMore: boolean;
}

export type RedeliverInput = { eventId: string } | { from: Date; to: Date };

export interface Webhooks {
  listDeliveries(
    partnerId: string,
    q: { page: Page; eventId?: string | undefined; status?: DeliveryStatus | undefined } & CreatedRange,
  ): Promise<PageResult<DeliveryView>>;
  /** Queues new deliveries, due now, with the same webhook-id (event id) as the original. */
  redeliver(partnerId: string, input: RedeliverInput): Promise<{ count: number; deliveryIds: string[] }>;
  listEvents(partnerId: string, q: { after: bigint; limit: number }): Promise<EventPage>;
}

/** A range redelivery larger than this is refused (narrow the range). */
export const REDELIVER_EVENTS_MAX = 10_000;
const REDELIVER_INSERT_CHUNK = 1000;
/** How long a feed read may wait for running writers before answering with what is final. */
const FEED_STABLE_WAIT_MS_MAX = 100;

const STATUS_TO_DB = { PENDING: 'pending', SUCCEEDED: 'succeeded', FAILED: 'failed' } as const;
const STATUS_FROM_DB = { pending: 'PENDING', succeeded: 'SUCCEEDED', failed: 'FAILED' } as const;
const iso = (d: Date | string) => new Date(d).toISOString();

export function createWebhooks(deps: {
  db: Kysely<DB>;
  ids: IdGenerator;
  clock: Clock;
  horizon: EventHorizon;
  partners: Pick<Partners, 'get'>;
  notify: () => void;
}): Webhooks {
  const { db, clock } = deps;

  return {
    async listDeliveries(partnerId, q) {
      let base = db.selectFrom('webhook_deliveries').where('webhook_deliveries.partner_id', '=', partnerId);
      if (q.eventId !== undefined) base = base.where('webhook_deliveries.event_id', '=', q.eventId);
      if (q.status !== undefined) base = base.where('webhook_deliveries.status', '=', STATUS_TO_DB[q.status]);
      if (q.createdFrom) base = base.where('webhook_deliveries.created_at', '>=', q.createdFrom);
      if (q.createdTo) base = base.where('webhook_deliveries.created_at', '<=', q.createdTo);
      const [count, rows] = await Promise.all([
        base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
        base
          .innerJoin('events', 'events.id', 'webhook_deliveries.event_id')
          .selectAll('webhook_deliveries')
          .select('events.type as event_type')
          .orderBy('webhook_deliveries.created_at', 'desc')
          .orderBy('webhook_deliveries.id', 'desc')
          .limit(q.page.pageSize)
          .offset(q.page.offset)
          .execute(),
      ]);
      const attempts =
        rows.length === 0
          ? []
          : await db
              .selectFrom('webhook_attempts')
              .selectAll()
              .where(
                'delivery_id',
                'in',
                rows.map((r) => r.id),
              )
              .orderBy('delivery_id')
              .orderBy('attempt_number')
              .orderBy('id')
              .execute();
      const byDelivery = new Map<string, DeliveryAttemptView[]>();
      for (const a of attempts) {
        const list = byDelivery.get(a.delivery_id) ?? [];
        list.push({
          attempt: a.attempt_number,
          url: a.request_url,
          statusCode: a.response_status,
          latencyMs: a.latency_ms,
          error: a.error,
          responseExcerpt: a.response_excerpt,
          createTime: iso(a.created_at),
        });
        byDelivery.set(a.delivery_id, list);
      }
      return {
        list: rows.map((r) => ({
          id: r.id,
          eventId: r.event_id,
          event: r.event_type,
          status: STATUS_FROM_DB[r.status],
          trigger: r.kind === 'auto' ? 'AUTOMATIC' : 'MANUAL',
          attemptCount: r.attempt_count,
          nextAttemptTime: r.next_attempt_at ? iso(r.next_attempt_at) : null,
          lastStatusCode: r.last_status_code,
          lastError: r.last_error,
          createTime: iso(r.created_at),
          updateTime: iso(r.updated_at),
          completeTime: r.completed_at ? iso(r.completed_at) : null,
          attempts: byDelivery.get(r.id) ?? [],
        })),
        total: Number(count.n),
        pageNum: q.page.pageNum,
        pageSize: q.page.pageSize,
      };
    },

    async redeliver(partnerId, input) {
      const partner = await deps.partners.get(partnerId);
      if (!partner.callbackUrl) throw preconditionFailed('no callback URL is set: set one with POST /callback-url first');
      let events: { id: string; seq: string }[];
      if ('eventId' in input) {
        // One named event is sent whatever the subscriptions say: the partner asked for it.
        const e = await db
          .selectFrom('events')
          .select(['id', 'seq'])
          .where('id', '=', input.eventId)
          .where('partner_id', '=', partnerId)
          .executeTakeFirst();
        if (!e) throw notFound('event', input.eventId);
        events = [e];
      } else {
        if (input.from.getTime() > input.to.getTime()) throw new AppError('INVALID_PARAMETERS', 'from: must not be after to');
        // A range resends what the partner subscribes to now.
        const inRange = db
          .selectFrom('events')
          .where('partner_id', '=', partnerId)
          .where('created_at', '>=', input.from)
          .where('created_at', '<=', input.to)
          .where('type', 'in', partner.subscribedEvents.length > 0 ? partner.subscribedEvents : ['-']);
        const n = await inRange.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
        if (Number(n.n) > REDELIVER_EVENTS_MAX)
          throw new AppError(
            'INVALID_PARAMETERS',
            `from/to: the range holds ${n.n} events; at most ${REDELIVER_EVENTS_MAX} per request, so narrow it`,
          );
        events = await inRange.select(['id', 'seq']).orderBy('seq').limit(REDELIVER_EVENTS_MAX).execute();
      }
      if (events.length === 0) return { count: 0, deliveryIds: [] };
      const now = clock.now();
      const rows = events.map((e) => ({
        id: deps.ids.next('webhookDelivery'),
        partner_id: partnerId,
        event_id: e.id,
        event_seq: e.seq,
        kind: 'manual' as const,
        status: 'pending' as const,
        attempt_count: 0,
        next_attempt_at: now,
        locked_until: null,
        claim_token: null,
        last_status_code: null,
        last_error: null,
        created_at: now,
        updated_at: now,
        completed_at: null,
      }));
      await db.transaction().execute(async (tx) => {
        for (let i = 0; i < rows.length; i += REDELIVER_INSERT_CHUNK)
          await tx
            .insertInto('webhook_deliveries')
            .values(rows.slice(i, i + REDELIVER_INSERT_CHUNK))
            .execute();
      });
      deps.notify();
      return { count: rows.length, deliveryIds: rows.map((r) => r.id) };
    },

    async listEvents(partnerId, q) {
      // Only final events are served, so a cursor never moves past an event that commits later.
      const stable = await deps.horizon.stableSeq({ waitMsMax: FEED_STABLE_WAIT_MS_MAX });
      const rows =
        stable > q.after
          ? await db
              .selectFrom('events')
              .select(['id', 'seq', 'type', 'payload', 'created_at'])
              .where('partner_id', '=', partnerId)
              .where('seq', '>', q.after.toString())
              .where('seq', '<=', stable.toString())
              .orderBy('seq')
              .limit(q.limit + 1)
              .execute()
          : [];
      const hasMore = rows.length > q.limit;
      const page = rows.slice(0, q.limit);
      // Without more, every event of this partner up to the horizon was returned: resume from there.
      const next = hasMore ? BigInt(page[page.length - 1]!.seq) : stable > q.after ? stable : q.after;
      return {
        list: page.map((e) => ({ id: e.id, event: e.type, createdAt: iso(e.created_at), payload: deliveredPayload(e.type, e.payload) })),
        nextCursor: next.toString(),
        hasMore,
      };
    },
  };
}
