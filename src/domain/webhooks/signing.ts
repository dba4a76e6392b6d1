import { createHmac } from 'node:crypto';
import { sha256Hex, signRequest } from '../../infra/auth/signature.ts';

/**
 * What a webhook request carries (docs/api-contract.md, docs/webhooks.md): the envelope `{id, event, createdAt, payload,
 * data}` and two independent signatures — the contract's HMAC headers (a request signature
 * over the callback URL, keyed with the partner's API secret) and Standard Webhooks headers
 * (keyed with the partner's `whsec_` secrets, one entry per active secret during a rotation).
 */
export interface WebhookEnvelope {
  id: string;
  event: string;
  createdAt: string;
  /** The contract's name for the object. */
  payload: Record<string, unknown>;
  /** The guide sample's name for the same object. */
  data: Record<string, unknown>;
}

export interface StoredEvent {
  id: string;
  type: string;
  createdAt: Date;
  payload: Record<string, unknown>;
}

/** The payload as delivered: the guide's sample reads `tradeId` from trade events (docs/api-contract.md). */
export function deliveredPayload(type: string, payload: Record<string, unknown>): Record<string, unknown> {
  if (type.startsWith('TRADE_') && payload.tradeId === undefined && typeof payload.id === 'string')
    return { ...payload, tradeId: payload.id };
  return payload;
}

export function webhookEnvelope(e: StoredEvent): WebhookEnvelope {
  const payload = deliveredPayload(e.type, e.payload);
  return { id: e.id, event: e.type, createdAt: e.createdAt.toISOString(), payload, data: payload };
}

/** Standard Webhooks: `v1,` + base64 HMAC-SHA256 over `${id}.${timestamp}.${body}`, keyed with the base64 part of `whsec_…`. */
export function standardWebhookSignature(secret: string, id: string, timestamp: string, body: string | Buffer): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest('base64')}`;
}

export interface SigningMaterial {
  /** The partner's oldest active API key; null when it has none (the attempt then fails visibly). */
  apiKey: { apiKey: string; apiSecret: string } | null;
  /** whsec_ secrets, newest first. */
  webhookSecrets: string[];
}

/**
 * Headers of one attempt. `timestampSeconds` is wall-clock time (receivers compare it with
 * theirs); `nonce` is fresh per attempt; `webhook-id` is the event id, so it is the same on every
 * retry and redelivery and receivers can dedupe on it.
 */
export function webhookHeaders(input: {
  url: URL;
  body: string;
  eventId: string;
  timestampSeconds: number;
  nonce: string;
  signing: SigningMaterial & { apiKey: { apiKey: string; apiSecret: string } };
}): Record<string, string> {
  const timestamp = String(input.timestampSeconds);
  const { apiKey, apiSecret } = input.signing.apiKey;
  const signature = signRequest(apiSecret, {
    method: 'POST',
    // URL.host carries the port when it is not the scheme's default: exactly the Host header fetch sends.
    host: input.url.host,
    path: input.url.pathname,
    query: input.url.search.replace(/^\?/, ''),
    bodySha256Hex: sha256Hex(input.body),
    timestamp,
    nonce: input.nonce,
  });
  return {
    'content-type': 'application/json',
    'user-agent': 'OpenRamp-Webhooks/1',
    'x-api-key': apiKey,
    'x-timestamp': timestamp,
    'x-nonce': input.nonce,
    'x-signature': signature,
    'webhook-id': input.eventId,
    'webhook-timestamp': timestamp,
    'webhook-signature': input.signing.webhookSecrets
      .map((s) => standardWebhookSignature(s, input.eventId, timestamp, input.body))
      .join(' '),
  };
}
