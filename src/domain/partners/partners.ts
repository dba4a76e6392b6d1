import { randomBytes } from 'node:crypto';
import type { Resealer } from '../../infra/keys/master-key.ts';
import type { Kysely } from 'kysely';
import type { DB } from '../../infra/db/schema.ts';
import type { Clock } from '../../infra/lib/clock.ts';
import type { IdGenerator } from '../../infra/lib/ids.ts';
import type { SecretBox } from '../../infra/lib/secret-box.ts';
import { randomToken } from '../../infra/lib/secret-box.ts';
import { AppError, notFound, preconditionFailed } from '../../infra/lib/errors.ts';
import { SUBSCRIBABLE_EVENTS } from '../../infra/events/outbox.ts';
import { checkCallbackUrl } from '../webhooks/url-safety.ts';
// The whitelist entry syntax is the one the auth hook matches requests against.
import { isValidIpOrCidr } from '../../api/auth.ts';

/**
 * Partners and their credentials. API secrets and webhook secrets are stored sealed under the
 * master key and shown once, at creation. A partner may hold two active API keys so it can
 * rotate without downtime.
 */
export const ACTIVE_KEYS_MAX = 2;

export interface PartnerCredentials {
  partnerId: string;
  apiKey: string;
  apiSecret: string;
  webhookSecret: string;
}

export interface ResolvedKey {
  keyId: string;
  partnerId: string;
  partnerName: string;
  secret: string;
  ipWhitelist: string[];
  rateLimitPerMinute: number | null;
  /** Multipart requests must sign the raw body's SHA-256 (docs/request-signing.md). */
  strictSigning: boolean;
  /** Every POST must carry an Idempotency-Key (docs/api-contract.md, "Idempotency keys"). */
  idempotencyRequired: boolean;
}

export interface PartnerSettings {
  id: string;
  name: string;
  callbackUrl: string | null;
  subscribedEvents: string[];
  ipWhitelist: string[];
  createdAt: Date;
}

export interface Partners {
  create(name: string): Promise<PartnerCredentials>;
  createApiKey(partnerId: string): Promise<{ keyId: string; apiKey: string; apiSecret: string }>;
  revokeApiKey(partnerId: string, keyId: string): Promise<void>;
  listApiKeys(partnerId: string): Promise<{ keyId: string; apiKey: string; status: string; createdAt: Date }[]>;
  resolveKey(apiKey: string): Promise<ResolvedKey | null>;
  get(partnerId: string): Promise<PartnerSettings>;
  list(): Promise<PartnerSettings[]>;
  /** Stores the settings as given (operator tools, tests); partner requests use the `update*` methods. */
  setCallbackUrl(partnerId: string, url: string): Promise<void>;
  setSubscribedEvents(partnerId: string, events: string[]): Promise<void>;
  setIpWhitelist(partnerId: string, ips: string[]): Promise<void>;
  /**
   * A partner's own settings change: each checks its input (an error naming the field, nothing
   * stored), stores it and returns what was stored. An empty URL clears the callback URL (SSRF
   * checks apply outside the sandbox); an empty IP list lifts the restriction.
   */
  updateCallbackUrl(partnerId: string, url: string): Promise<string>;
  updateSubscribedEvents(partnerId: string, events: string[]): Promise<string[]>;
  updateIpWhitelist(partnerId: string, ips: string[]): Promise<string[]>;
  /** Where each partner's webhooks go, for the fan-out (inside its transaction when `q` is one). Unknown ids are left out. */
  webhookTargets(
    partnerIds: readonly string[],
    q?: Kysely<DB>,
  ): Promise<Map<string, { callbackUrl: string | null; subscribedEvents: string[] }>>;
  /** Webhook signing secrets, newest first (two during a rotation overlap). */
  webhookSecrets(partnerId: string): Promise<string[]>;
  rotateWebhookSecret(partnerId: string): Promise<string>;
  /**
   * The key that signs webhooks with the contract's HMAC headers: the oldest ACTIVE API key (it
   * stays the same while a newer key is added, so receivers are not surprised mid-rotation).
   * Null when the partner has no active key.
   */
  webhookSigningKey(partnerId: string): Promise<{ apiKey: string; apiSecret: string } | null>;
  /** Strict signing mode: multipart requests must sign the raw body's SHA-256. */
  setStrictSigning(partnerId: string, strict: boolean): Promise<void>;
  /** "Keys required" mode: POSTs without an Idempotency-Key are refused. */
  setIdempotencyRequired(partnerId: string, required: boolean): Promise<void>;
  /** True when the master key opens the stored secrets (or there are none yet): the start-up key check. */
  canOpenStoredSecrets(): Promise<boolean>;
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export function createPartners(deps: {
  db: Kysely<DB>;
  box: SecretBox;
  ids: IdGenerator;
  clock: Clock;
  keyPrefix: string;
  keyCacheTtlMs: number;
  /** Sandbox: callback URLs may point at private and local hosts. */
  allowPrivateCallbacks: boolean;
}): Partners {
  const { db, box, ids, clock } = deps;
  // Decrypting a secret per request would cost a DB round trip and an AES operation; a short
  // cache keeps the signed hot path fast. Changes made through this process invalidate it at
  // once; other processes see them within keyCacheTtlMs.
  const keyCache = new Map<string, { value: ResolvedKey | null; expiresMs: number }>();
  const invalidate = (partnerId?: string) => {
    for (const [k, v] of keyCache) if (!partnerId || v.value?.partnerId === partnerId || v.value === null) keyCache.delete(k);
  };

  async function newKey(partnerId: string) {
    const apiKey = randomToken(deps.keyPrefix, 18);
    const apiSecret = randomToken('ors_', 32);
    const keyId = ids.next('apiKey');
    await db
      .insertInto('api_keys')
      .values({
        id: keyId,
        partner_id: partnerId,
        api_key: apiKey,
        secret_enc: box.seal(apiSecret),
        status: 'ACTIVE',
        created_at: clock.now(),
        revoked_at: null,
      })
      .execute();
    return { keyId, apiKey, apiSecret };
  }

  async function get(partnerId: string): Promise<PartnerSettings> {
    const p = await db.selectFrom('partners').selectAll().where('id', '=', partnerId).executeTakeFirst();
    if (!p) throw notFound('partner', partnerId);
    return {
      id: p.id,
      name: p.name,
      callbackUrl: p.callback_url,
      subscribedEvents: p.subscribed_events,
      ipWhitelist: p.ip_whitelist,
      createdAt: p.created_at,
    };
  }

  async function setCallbackUrl(partnerId: string, url: string) {
    await db
      .updateTable('partners')
      .set({ callback_url: url === '' ? null : url, updated_at: clock.now() })
      .where('id', '=', partnerId)
      .execute();
  }

  async function setSubscribedEvents(partnerId: string, events: string[]) {
    await db
      .updateTable('partners')
      .set({ subscribed_events: JSON.stringify([...new Set(events)]), updated_at: clock.now() })
      .where('id', '=', partnerId)
      .execute();
  }

  async function setIpWhitelist(partnerId: string, ips: string[]) {
    await db
      .updateTable('partners')
      .set({ ip_whitelist: JSON.stringify([...new Set(ips)]), updated_at: clock.now() })
      .where('id', '=', partnerId)
      .execute();
    invalidate(partnerId);
  }

  return {
    async create(name) {
      const trimmed = name.trim();
      if (trimmed.length === 0 || trimmed.length > 200) throw new AppError('INVALID_PARAMETERS', 'name: must be 1–200 characters');
      const partnerId = ids.next('partner');
      const webhookSecret = newWebhookSecret();
      const now = clock.now();
      return db.transaction().execute(async (tx) => {
        await tx
          .insertInto('partners')
          .values({
            id: partnerId,
            name: trimmed,
            callback_url: null,
            subscribed_events: JSON.stringify(SUBSCRIBABLE_EVENTS),
            ip_whitelist: '[]',
            webhook_secret_enc: box.seal(webhookSecret),
            webhook_secret_prev_enc: null,
            rate_limit_per_minute: null,
            status: 'ACTIVE',
            created_at: now,
            updated_at: now,
          })
          .execute();
        const apiKey = randomToken(deps.keyPrefix, 18);
        const apiSecret = randomToken('ors_', 32);
        await tx
          .insertInto('api_keys')
          .values({
            id: ids.next('apiKey'),
            partner_id: partnerId,
            api_key: apiKey,
            secret_enc: box.seal(apiSecret),
            status: 'ACTIVE',
            created_at: now,
            revoked_at: null,
          })
          .execute();
        return { partnerId, apiKey, apiSecret, webhookSecret };
      });
    },

    async createApiKey(partnerId) {
      await get(partnerId);
      const active = await db
        .selectFrom('api_keys')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('partner_id', '=', partnerId)
        .where('status', '=', 'ACTIVE')
        .executeTakeFirstOrThrow();
      if (Number(active.n) >= ACTIVE_KEYS_MAX)
        throw preconditionFailed(`partner already has ${ACTIVE_KEYS_MAX} active API keys; revoke one first`);
      return newKey(partnerId);
    },

    async revokeApiKey(partnerId, keyId) {
      const res = await db
        .updateTable('api_keys')
        .set({ status: 'REVOKED', revoked_at: clock.now() })
        .where('id', '=', keyId)
        .where('partner_id', '=', partnerId)
        .where('status', '=', 'ACTIVE')
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw notFound('active API key', keyId);
      invalidate(partnerId);
    },

    async listApiKeys(partnerId) {
      await get(partnerId); // an unknown partner is an error, not an empty list
      const rows = await db
        .selectFrom('api_keys')
        .select(['id', 'api_key', 'status', 'created_at'])
        .where('partner_id', '=', partnerId)
        .orderBy('created_at')
        .execute();
      return rows.map((r) => ({ keyId: r.id, apiKey: r.api_key, status: r.status, createdAt: r.created_at }));
    },

    async resolveKey(apiKey) {
      const nowMs = clock.now().getTime();
      const cached = keyCache.get(apiKey);
      if (cached && cached.expiresMs > nowMs) return cached.value;
      const row = await db
        .selectFrom('api_keys')
        .innerJoin('partners', 'partners.id', 'api_keys.partner_id')
        .select([
          'api_keys.id as keyId',
          'api_keys.partner_id as partnerId',
          'api_keys.secret_enc',
          'partners.name',
          'partners.ip_whitelist',
          'partners.rate_limit_per_minute',
          'partners.strict_signing',
          'partners.idempotency_required',
        ])
        .where('api_keys.api_key', '=', apiKey)
        .where('api_keys.status', '=', 'ACTIVE')
        .where('partners.status', '=', 'ACTIVE')
        .executeTakeFirst();
      const value: ResolvedKey | null = row
        ? {
            keyId: row.keyId,
            partnerId: row.partnerId,
            partnerName: row.name,
            secret: box.open(row.secret_enc),
            ipWhitelist: row.ip_whitelist,
            rateLimitPerMinute: row.rate_limit_per_minute,
            strictSigning: row.strict_signing,
            idempotencyRequired: row.idempotency_required,
          }
        : null;
      if (keyCache.size > 10_000) keyCache.clear();
      keyCache.set(apiKey, { value, expiresMs: nowMs + deps.keyCacheTtlMs });
      return value;
    },

    get,

    async list() {
      const rows = await db.selectFrom('partners').selectAll().orderBy('created_at').execute();
      return rows.map((p) => ({
        id: p.id,
        name: p.name,
        callbackUrl: p.callback_url,
        subscribedEvents: p.subscribed_events,
        ipWhitelist: p.ip_whitelist,
        createdAt: p.created_at,
      }));
    },

    setCallbackUrl,
    setSubscribedEvents,

    async setIpWhitelist(partnerId, ips) {
      await setIpWhitelist(partnerId, ips);
    },

    async updateCallbackUrl(partnerId, raw) {
      const url = raw.trim();
      if (url !== '') {
        const problem = await checkCallbackUrl(url, { allowPrivate: deps.allowPrivateCallbacks });
        if (problem) throw new AppError('INVALID_PARAMETERS', problem);
      }
      await setCallbackUrl(partnerId, url);
      return url;
    },

    async updateSubscribedEvents(partnerId, events) {
      const unknown = events.find((e) => !(SUBSCRIBABLE_EVENTS as readonly string[]).includes(e));
      if (unknown !== undefined)
        throw new AppError('INVALID_PARAMETERS', `events: unknown event "${unknown}" (available: ${SUBSCRIBABLE_EVENTS.join(', ')})`);
      await setSubscribedEvents(partnerId, events);
      return [...new Set(events)];
    },

    async updateIpWhitelist(partnerId, raw) {
      const ips = raw.map((s) => s.trim());
      const bad = ips.find((ip) => !isValidIpOrCidr(ip));
      if (bad !== undefined) throw new AppError('INVALID_PARAMETERS', `ipWhiteList: "${bad}" is not an IP address or CIDR range`);
      await setIpWhitelist(partnerId, ips);
      return ips;
    },

    async webhookTargets(partnerIds, q = db) {
      if (partnerIds.length === 0) return new Map();
      const rows = await q
        .selectFrom('partners')
        .select(['id', 'callback_url', 'subscribed_events'])
        .where('id', 'in', [...new Set(partnerIds)])
        .execute();
      return new Map(rows.map((r) => [r.id, { callbackUrl: r.callback_url, subscribedEvents: r.subscribed_events }]));
    },

    async webhookSecrets(partnerId) {
      const p = await db
        .selectFrom('partners')
        .select(['webhook_secret_enc', 'webhook_secret_prev_enc'])
        .where('id', '=', partnerId)
        .executeTakeFirst();
      if (!p) throw notFound('partner', partnerId);
      return [box.open(p.webhook_secret_enc), ...(p.webhook_secret_prev_enc ? [box.open(p.webhook_secret_prev_enc)] : [])];
    },

    async rotateWebhookSecret(partnerId) {
      const p = await db.selectFrom('partners').select(['webhook_secret_enc']).where('id', '=', partnerId).executeTakeFirst();
      if (!p) throw notFound('partner', partnerId);
      const secret = newWebhookSecret();
      await db
        .updateTable('partners')
        .set({ webhook_secret_enc: box.seal(secret), webhook_secret_prev_enc: p.webhook_secret_enc, updated_at: clock.now() })
        .where('id', '=', partnerId)
        .execute();
      return secret;
    },

    async canOpenStoredSecrets() {
      const p = await db.selectFrom('partners').select('webhook_secret_enc').orderBy('id').limit(1).executeTakeFirst();
      if (!p) return true;
      try {
        box.open(p.webhook_secret_enc);
        return true;
      } catch {
        return false;
      }
    },

    async webhookSigningKey(partnerId) {
      const row = await db
        .selectFrom('api_keys')
        .select(['api_key', 'secret_enc'])
        .where('partner_id', '=', partnerId)
        .where('status', '=', 'ACTIVE')
        .orderBy('created_at')
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      return row ? { apiKey: row.api_key, apiSecret: box.open(row.secret_enc) } : null;
    },

    async setStrictSigning(partnerId, strict) {
      const res = await db
        .updateTable('partners')
        .set({ strict_signing: strict, updated_at: clock.now() })
        .where('id', '=', partnerId)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw notFound('partner', partnerId);
      invalidate(partnerId);
    },

    async setIdempotencyRequired(partnerId, required) {
      const res = await db
        .updateTable('partners')
        .set({ idempotency_required: required, updated_at: clock.now() })
        .where('id', '=', partnerId)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw notFound('partner', partnerId);
      invalidate(partnerId);
    },
  };
}

/** Whether a partner exists (inside the caller's transaction when `q` is one). */
export async function partnerExists(q: Kysely<DB>, partnerId: string): Promise<boolean> {
  return (await q.selectFrom('partners').select('id').where('id', '=', partnerId).executeTakeFirst()) !== undefined;
}

/** Master-key rotation: re-seals every API secret and webhook secret. */
export const resealPartnerSecrets: Resealer = async (tx, { from, to }) => {
  const re = (v: string) => to.box.seal(from.box.open(v));
  const partners = await tx.selectFrom('partners').select(['id', 'webhook_secret_enc', 'webhook_secret_prev_enc']).execute();
  for (const p of partners)
    await tx
      .updateTable('partners')
      .set({
        webhook_secret_enc: re(p.webhook_secret_enc),
        webhook_secret_prev_enc: p.webhook_secret_prev_enc === null ? null : re(p.webhook_secret_prev_enc),
      })
      .where('id', '=', p.id)
      .execute();
  const keys = await tx.selectFrom('api_keys').select(['id', 'secret_enc']).execute();
  for (const k of keys)
    await tx
      .updateTable('api_keys')
      .set({ secret_enc: re(k.secret_enc) })
      .where('id', '=', k.id)
      .execute();
  return partners.length + keys.length;
};
