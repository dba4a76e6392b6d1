import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { signRequest, verifyWebhook, type WebhookEvent } from '../../sdk/src/index.ts';
import type { Config } from '../config.ts';
import { SANDBOX_PARTNER_FILE, SERVER_FILE } from '../runtime.ts';
import { ASSET_SCALE } from '../infra/lib/money.ts';

/**
 * `openramp demo` (docs/configuration.md): the integration guide's whole offramp journey against a running
 * server, as a partner would run it — signed API calls with the SDK, a local webhook receiver
 * that verifies both signature schemes with the SDK and prints each webhook as it arrives.
 *
 * The demo borrows the partner's webhook settings: it points the callback URL at its own
 * receiver and subscribes to every event, and puts the previous callback URL and subscriptions
 * back when it ends (success, failure or Ctrl-C), so running it leaves the partner as it was.
 * Two demos for one partner at the same time would take each other's webhooks; run them with
 * different partners (`--credentials`).
 */
export interface DemoOptions {
  /** Base URL of the OpenRamp server, e.g. http://127.0.0.1:8080 */
  url: string;
  apiKey: string;
  apiSecret: string;
  /** The partner's `whsec_` secret. */
  webhookSecret: string;
  out: (line: string) => void;
  /** Whole journey, from the first call to the last webhook. */
  timeoutMs: number;
  /** USDT sent by the mock deposit (decimal string). */
  amount?: string;
  /** Aborts the demo (it still restores the webhook settings). */
  signal?: AbortSignal;
}

export interface DemoResult {
  customerId: string;
  bankAccountId: string;
  flowId: string;
  depositAddress: string;
  depositId: string;
  tradeId: string;
  payoutId: string;
  /** Events of this run, in arrival order. */
  events: string[];
}

/** A failure the user can act on: the message says what happened and what to do. */
export class DemoError extends Error {}

export const DEMO_TIMEOUT_MS_DEFAULT = 120_000;
const DEMO_AMOUNT_DEFAULT = '250';
const NETWORK = 'TRX';
const CRYPTO = 'USDT';
/** After PAYOUT_SUBMITTED with a later arrival date, how long to wait in case the sandbox bank settles at once anyway. */
const LATE_SETTLEMENT_GRACE_MS = 5_000;
/** While waiting for the payout, how often to look at it (to explain a wait such as INSUFFICIENT_TREASURY_FUNDS). */
const PAYOUT_PEEK_INTERVAL_MS = 3_000;
const STEPS = 8;
const API_TIMEOUT_MS = 30_000;
/**
 * The dispatcher sends webhooks concurrently, so two sent together (DEPOSIT_RECEIVED and
 * DEPOSIT_APPROVED from one scanner pass, PAYOUT_SUBMITTED and PAYOUT_SETTLED from one bank
 * run) may arrive in either order. The receiver holds each arrival this long and prints what
 * arrived together in event order; printed times are arrival times.
 */
const ORDER_HOLD_MS = 250;

/** The guide's example customer and EUR bank account (Step 1 and 2 of "Offramp Integration"). */
const GUIDE_NAME = 'John Doe';
const GUIDE_EUR_BANK = {
  currency: 'EUR',
  bankName: 'Deutsche Bank',
  accountNo: '1234567890',
  iban: 'DE89370400440532013000',
  swift: 'DEUTDEFF',
  accountName: GUIDE_NAME,
};

// biome-ignore lint/suspicious/noExplicitAny: the demo reads untyped JSON answers from the server
type Json = Record<string, any>;

interface Arrival {
  event: WebhookEvent<Json>;
  elapsedMs: number;
  /** "signatures: hmac ✓ standard ✓" */
  marks: string;
}

interface Waiter {
  match: (a: Arrival) => boolean;
  resolve: (a: Arrival) => void;
}

const str = (v: unknown): string => (v === null || v === undefined || v === '' ? '–' : String(v));

/** The few fields that tell the story of each event type. */
export function webhookSummary(event: string, p: Json): string {
  if (event.startsWith('CUSTOMER_')) return `status=${str(p.status)} name="${str(p.realName)}"${p.remark ? ` remark="${p.remark}"` : ''}`;
  if (event.startsWith('BANK_ACCOUNT_'))
    return `${str(p.currency)} ${str(p.iban ?? p.accountNo)} verification=${str(p.verificationStatus)}${p.verificationReason ? ` (${p.verificationReason})` : ''}`;
  if (event.startsWith('DEPOSIT_ADDRESS_')) return `${str(p.address)} on ${str(p.network)} status=${str(p.status)}`;
  if (event.startsWith('DEPOSIT_')) {
    const reason = p.rejectReason ?? p.actionReason ?? p.holdReason;
    return `amount=${str(p.amount)} ${str(p.currency)} on ${str(p.network)} status=${str(p.status)} confirmations=${str(p.confirmations)}/${str(p.confirmationsRequired)}${reason ? ` reason=${reason}` : ''}`;
  }
  if (event.startsWith('TRADE_'))
    return `${str(p.fromAmount)} ${str(p.fromCurrency)} → ${str(p.toAmount)} ${str(p.toCurrency)} rate=${str(p.rate)} status=${str(p.status)}`;
  if (event.startsWith('PAYOUT_')) {
    const ret = p.returnCode ? ` return=${p.returnCode}` : '';
    return `amount=${str(p.amount)} ${str(p.currency)} rail=${str(p.rail)} status=${str(p.status)} arrival=${str(p.expectedArrivalDate)} ref=${str(p.bankReference)}${ret}`;
  }
  return `status=${str(p.status)}`;
}

function seconds(ms: number): string {
  return `+${(ms / 1000).toFixed(1)}s`.padStart(7);
}

/** Today's date (YYYY-MM-DD) where it is latest on Earth (UTC+14): an arrival date after it is certainly a later day. */
function latestTodayOnEarth(now = new Date()): string {
  return new Date(now.getTime() + 14 * 3_600_000).toISOString().slice(0, 10);
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const out = opts.out;
  const base = opts.url.replace(/\/+$/, '');
  const amount = opts.amount ?? DEMO_AMOUNT_DEFAULT;
  const started = performance.now();
  const deadline = started + opts.timeoutMs;
  const elapsed = () => performance.now() - started;

  // ---- signed API calls (SDK) -------------------------------------------------------------
  /** `abortable: false` for the calls that put the webhook settings back after an interruption. */
  async function api(method: 'GET' | 'POST', route: string, body?: unknown, { abortable = true } = {}): Promise<Json> {
    const url = `${base}${route}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...signRequest({ apiKey: opts.apiKey, apiSecret: opts.apiSecret, method, url, ...(payload !== undefined ? { body: payload } : {}) }),
    };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
        signal: AbortSignal.any([AbortSignal.timeout(API_TIMEOUT_MS), ...(opts.signal && abortable ? [opts.signal] : [])]),
      });
    } catch (err) {
      if (abortable && opts.signal?.aborted) throw new DemoError('interrupted');
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new DemoError(
        `cannot reach OpenRamp at ${base} (${cause?.code ?? cause?.message ?? (err as Error).message}) during ${method} ${route}: is the server running? Start one with npm start`,
      );
    }
    const text = await res.text();
    let json: Json | null = null;
    try {
      json = JSON.parse(text) as Json;
    } catch {
      json = null;
    }
    if (!res.ok || !json || json.status !== 'SUCCESS') {
      const why = json?.message ?? text.slice(0, 300);
      const hint =
        res.status === 401 ? " — are the credentials current? (the sandbox partner file is written on the server's first start)" : '';
      throw new DemoError(`${method} ${route} failed: HTTP ${res.status} ${why}${hint}`);
    }
    return json;
  }

  // ---- webhook receiver (SDK verification of both schemes) --------------------------------
  const seen = new Set<string>();
  const arrivals: Arrival[] = [];
  const waiters: Waiter[] = [];
  // Arrivals waiting to be printed: held ORDER_HOLD_MS so that webhooks sent together (the
  // dispatcher sends concurrently) print in creation order, and until the customer id is known.
  let inbox: Arrival[] = [];
  let inboxTimer: NodeJS.Timeout | null = null;
  let customerId: string | null = null;
  let receiverFailure: ((err: DemoError) => void) | null = null;
  const receiverFailed = new Promise<never>((_, reject) => {
    receiverFailure = reject;
  });
  receiverFailed.catch(() => {}); // observed through Promise.race below

  const ours = (p: Json): boolean => customerId !== null && (p.customerId === customerId || p.id === customerId);

  function show(a: Arrival) {
    const marks = a.marks;
    const p = a.event.payload ?? {};
    const version = p.version !== undefined ? ` v${p.version}` : '';
    if (!ours(p)) {
      out(`${seconds(a.elapsedMs)}  · webhook ${a.event.event} ${str(p.id)} (not from this run; ignored)  ${marks}`);
      return;
    }
    out(
      `${seconds(a.elapsedMs)}  ◀ webhook ${a.event.event.padEnd(24)} ${str(p.id)}${version}  ${webhookSummary(a.event.event, p)}  ${marks}`,
    );
  }

  function accept(a: Arrival) {
    inbox.push(a);
    inboxTimer ??= setTimeout(release, ORDER_HOLD_MS);
  }

  /** Prints and hands to the waiting steps everything in the inbox, oldest event first (ULID ids sort by creation). */
  function release() {
    if (inboxTimer) clearTimeout(inboxTimer);
    inboxTimer = null;
    if (customerId === null) return; // printed once the customer create call has answered
    const batch = inbox.sort((x, y) => (x.event.id < y.event.id ? -1 : x.event.id > y.event.id ? 1 : 0));
    inbox = [];
    for (const a of batch) {
      show(a);
      if (!ours(a.event.payload ?? {})) continue;
      arrivals.push(a);
      for (const w of [...waiters]) {
        if (w.match(a)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(a);
        }
      }
    }
  }

  let callbackUrl = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/webhooks') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"FAILED","message":"not found"}');
        return;
      }
      const hmac = verifyWebhook({ headers: req.headers, rawBody, url: callbackUrl, apiSecret: opts.apiSecret });
      const standard = verifyWebhook({ headers: req.headers, rawBody, webhookSecret: opts.webhookSecret });
      const marks = `signatures: hmac ${hmac.ok ? '✓' : '✗'} standard ${standard.ok ? '✓' : '✗'}`;
      if (!hmac.ok || !standard.ok) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"status":"FAILED","message":"signature check failed"}');
        const reasons = [!hmac.ok ? `hmac: ${hmac.reason}` : null, !standard.ok ? `standard: ${standard.reason}` : null]
          .filter(Boolean)
          .join('; ');
        out(`${seconds(elapsed())}  ✗ webhook with a bad signature (${reasons})  ${marks}`);
        receiverFailure?.(
          new DemoError(
            `a webhook failed signature verification (${reasons}): are the apiSecret and webhookSecret the partner's current ones?`,
          ),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"SUCCESS"}');
      const event = hmac.event as WebhookEvent<Json>;
      if (seen.has(event.id)) {
        out(
          `${seconds(elapsed())}  · duplicate delivery of ${event.id} (${event.event}) ignored — deliveries are at least once, dedupe on webhook-id`,
        );
        return;
      }
      seen.add(event.id);
      accept({ event, elapsedMs: elapsed(), marks });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  callbackUrl = `http://127.0.0.1:${port}/webhooks`;

  let current = 'starting';
  function remaining(): number {
    return deadline - performance.now();
  }

  function timeoutError(what: string, extra = ''): DemoError {
    const got = arrivals.map((a) => a.event.event).join(', ') || 'none';
    const none =
      seen.size === 0
        ? ' No webhook arrived at all: is the server running its workers (serve --role all or worker), and can it reach 127.0.0.1?'
        : '';
    return new DemoError(
      `timed out after ${(elapsed() / 1000).toFixed(1)} s (limit ${Math.round(opts.timeoutMs / 1000)} s, --timeout) at ${current}, waiting for ${what}. Webhooks of this run so far: ${got}.${none}${extra}`,
    );
  }

  const timers = new Set<NodeJS.Timeout>();
  /** Resolves with the first arrival (already received or coming) that matches; fails at the deadline (or resolves null at `untilMs`). */
  function waitFor(
    what: string,
    match: (a: Arrival) => boolean,
    w: { fail?: (a: Arrival) => string | null; untilMs?: number; onTimeout?: () => Promise<string> } = {},
  ): Promise<Arrival | null> {
    const problemOf = (a: Arrival) => w.fail?.(a) ?? null;
    const relevant = (a: Arrival) => match(a) || problemOf(a) !== null;
    return new Promise<Arrival | null>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => settle(() => reject(new DemoError('interrupted')));
      const settle = (fn: () => void) => {
        if (timer) {
          clearTimeout(timer);
          timers.delete(timer);
        }
        opts.signal?.removeEventListener('abort', onAbort);
        const i = waiters.indexOf(waiter);
        if (i !== -1) waiters.splice(i, 1);
        fn();
      };
      const waiter: Waiter = {
        match: relevant,
        resolve: (a) =>
          settle(() => {
            const problem = problemOf(a);
            if (problem) reject(new DemoError(problem));
            else resolve(a);
          }),
      };
      const done = arrivals.find(relevant);
      if (done) return waiter.resolve(done);
      if (opts.signal?.aborted) return onAbort();
      waiters.push(waiter);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const graceOnly = w.untilMs !== undefined && w.untilMs < remaining();
      timer = setTimeout(
        () => {
          if (graceOnly) return settle(() => resolve(null));
          settle(() => {
            (w.onTimeout ? w.onTimeout().catch(() => '') : Promise.resolve('')).then((extra) => reject(timeoutError(what, extra)), reject);
          });
        },
        Math.max(0, graceOnly ? w.untilMs! : remaining()),
      );
      timers.add(timer);
    });
  }
  const guarded = <T>(p: Promise<T>): Promise<T> => Promise.race([p, receiverFailed]);

  let previous: { callbackUrl: string; events: string[] } | null = null;
  try {
    // ---- 1. who are we talking to; webhook settings ------------------------------------------
    current = 'step 1/8 (connecting)';
    const info = (await api('GET', '/basic-info')).data as Json;
    out(`OpenRamp demo — the integration guide's offramp journey against ${base}`);
    out(`partner "${info.name}" (${info.partnerId}), ${info.mode} mode`);
    if (info.mode !== 'sandbox')
      throw new DemoError(
        `the server runs in ${info.mode} mode: the demo sends a mock deposit (POST /deposit/mock), which only a sandbox server offers`,
      );
    out('');
    const prevUrl = String(((await api('GET', '/callback-url')).data as Json).callbackUrl ?? '');
    const subs = (await api('GET', '/subscribed-events')).data as Json;
    previous = { callbackUrl: prevUrl, events: [...(subs.events ?? []), ...(subs.extensionEvents ?? [])] as string[] };
    const available = (subs.available ?? []) as string[];
    out(`[1/${STEPS}] Webhook receiver listening on ${callbackUrl} (verifies X-Signature and webhook-signature with @openramp/sdk)`);
    await api('POST', '/callback-url', { callbackUrl });
    out(`      POST /callback-url       → ${callbackUrl} (previous: ${prevUrl || 'none'}; put back when the demo ends)`);
    await api('POST', '/subscribed-events', { events: available });
    out(`      POST /subscribed-events  → all ${available.length} events`);

    // ---- 2. customer; wait for KYC -------------------------------------------------------------
    current = `step 2/${STEPS} (create customer)`;
    const tag = randomBytes(4).toString('hex');
    const email = `demo-${tag}@example.com`;
    const externalId = `demo-${tag}`;
    const created = await api('POST', '/customer/create', { name: GUIDE_NAME, email, type: 'DEPOSITOR', isIndividual: true, externalId });
    customerId = String(created.customerId ?? (created.data as Json)?.id);
    out(`[2/${STEPS}] POST /customer/create  ${GUIDE_NAME} <${email}> externalId=${externalId} → ${customerId}`);
    release();
    current = `step 2/${STEPS} (KYC of customer ${customerId})`;
    out(`      waiting for CUSTOMER_APPROVED (sandbox KYC decides after a short delay) …`);
    await guarded(
      waitFor('CUSTOMER_APPROVED', (a) => a.event.event === 'CUSTOMER_APPROVED' && a.event.payload.id === customerId, {
        fail: (a) =>
          a.event.event === 'CUSTOMER_REJECTED' && a.event.payload.id === customerId
            ? `KYC rejected customer ${customerId}: ${a.event.payload.remark || 'no remark'}`
            : null,
      }),
    );

    // ---- 3. bank account -------------------------------------------------------------------------
    current = `step 3/${STEPS} (add bank account)`;
    const bank = await api('POST', '/bank-account/add', { customerId, ...GUIDE_EUR_BANK });
    const bankAccountId = String(bank.bankAccountId ?? (bank.data as Json)?.id);
    const verification = (bank.data as Json)?.verificationStatus;
    out(
      `[3/${STEPS}] POST /bank-account/add  EUR, ${GUIDE_EUR_BANK.bankName}, IBAN ${GUIDE_EUR_BANK.iban}, SWIFT ${GUIDE_EUR_BANK.swift} → ${bankAccountId}${verification ? ` (verification ${verification})` : ''}`,
    );

    // ---- 4. offramp flow; deposit address --------------------------------------------------------
    current = `step 4/${STEPS} (create offramp flow)`;
    const flow = await api('POST', '/autoramp-flow/offramp', {
      from: { customerId, currency: CRYPTO, network: NETWORK },
      to: bankAccountId,
    });
    const flowId = String(flow.flowId);
    const depositAddress = String((flow.data as Json).depositAddress);
    out(`[4/${STEPS}] POST /autoramp-flow/offramp  ${CRYPTO} on ${NETWORK} → EUR bank account → ${flowId}`);
    out('');
    out(`[5/${STEPS}] Deposit address for the customer:`);
    out(`        ${depositAddress}`);
    out(`      ⚠ Send only ${CRYPTO} on the ${NETWORK} network (Tron, TRC-20) to this address: any other network or token is lost.`);
    out(`      ⚠ SANDBOX: this address derives from a public test mnemonic. Never send real funds to it.`);
    out('');

    // ---- 6. mock deposit ---------------------------------------------------------------------------
    current = `step 6/${STEPS} (mock deposit)`;
    const mock = await api('POST', '/deposit/mock', {
      currency: CRYPTO,
      amount,
      senderName: 'Demo Sender',
      senderAccountNo: 'demo-wallet',
      receiverAccountNo: depositAddress,
      network: NETWORK,
    });
    out(
      `[6/${STEPS}] POST /deposit/mock  ${amount} ${CRYPTO} on ${NETWORK} → tx ${str((mock.data as Json).txid)} (mined in the next sandbox block)`,
    );

    // ---- 7. deposit and trade webhooks -----------------------------------------------------------
    out(`[7/${STEPS}] Waiting for the deposit and the trade: DEPOSIT_RECEIVED → DEPOSIT_APPROVED → TRADE_CREATED → TRADE_SETTLED …`);
    const depositFail = (a: Arrival): string | null => {
      const p = a.event.payload;
      if ((a.event.event === 'DEPOSIT_REJECTED' || a.event.event === 'DEPOSIT_ACTION_REQUIRED') && p.flowId === flowId) {
        return `deposit ${p.id} is ${p.status} (${p.rejectReason ?? p.actionReason ?? 'no reason given'}); the demo deposits ${amount} ${CRYPTO}, check the ${NETWORK} minimum (OPENRAMP_MIN_DEPOSIT_${NETWORK})`;
      }
      return null;
    };
    current = `step 7/${STEPS} (deposit to ${depositAddress})`;
    const received = (await guarded(
      waitFor('DEPOSIT_RECEIVED', (a) => a.event.event === 'DEPOSIT_RECEIVED' && a.event.payload.flowId === flowId, { fail: depositFail }),
    ))!;
    const depositId = String(received.event.payload.id);
    current = `step 7/${STEPS} (confirmations of deposit ${depositId})`;
    await guarded(
      waitFor('DEPOSIT_APPROVED', (a) => a.event.event === 'DEPOSIT_APPROVED' && a.event.payload.id === depositId, { fail: depositFail }),
    );
    current = `step 7/${STEPS} (trade for deposit ${depositId})`;
    const tradeCreated = (await guarded(
      waitFor(
        'TRADE_CREATED',
        (a) =>
          a.event.event === 'TRADE_CREATED' && Array.isArray(a.event.payload.depositIds) && a.event.payload.depositIds.includes(depositId),
      ),
    ))!;
    const tradeId = String(tradeCreated.event.payload.tradeId ?? tradeCreated.event.payload.id);
    current = `step 7/${STEPS} (settlement of trade ${tradeId})`;
    await guarded(waitFor('TRADE_SETTLED', (a) => a.event.event === 'TRADE_SETTLED' && a.event.payload.id === tradeId));

    // ---- 8. payout ---------------------------------------------------------------------------------
    out(`[8/${STEPS}] Waiting for the payout to the bank account: PAYOUT_SUBMITTED → PAYOUT_SETTLED …`);
    current = `step 8/${STEPS} (payout of trade ${tradeId})`;
    const payoutOf = (type: string) => (a: Arrival) => a.event.event === type && a.event.payload.tradeId === tradeId;
    const payoutState = async (): Promise<string> => {
      const list = ((await api('GET', `/payout/list?tradeId=${tradeId}`)).data as Json).list as Json[] | undefined;
      const p = list?.[list.length - 1];
      if (!p) return ' The trade has no payout yet.';
      const wait = p.waitReason ? `, waiting: ${p.waitReason}` : '';
      const fund =
        p.waitReason === 'INSUFFICIENT_TREASURY_FUNDS'
          ? ` — fund the sandbox treasury: npx openramp treasury fund --currency ${p.currency} --amount 1000000`
          : '';
      return ` Payout ${p.id} is ${p.status}${wait}${fund}.`;
    };
    let hinted = false;
    const peek = setInterval(() => {
      if (hinted) return;
      payoutState()
        .then((s) => {
          if (s.includes('INSUFFICIENT_TREASURY_FUNDS') && !hinted) {
            hinted = true;
            out(`      note:${s}`);
          }
        })
        .catch(() => {});
    }, PAYOUT_PEEK_INTERVAL_MS);
    peek.unref();
    let payoutId: string;
    try {
      const returned = (a: Arrival) =>
        payoutOf('PAYOUT_RETURNED')(a)
          ? `payout ${a.event.payload.id} was returned by the bank (${a.event.payload.returnCode}: ${a.event.payload.returnReason})`
          : null;
      const submitted = (await guarded(
        waitFor('PAYOUT_SUBMITTED', (a) => payoutOf('PAYOUT_SUBMITTED')(a) || payoutOf('PAYOUT_SETTLED')(a), {
          fail: returned,
          onTimeout: payoutState,
        }),
      ))!;
      payoutId = String(submitted.event.payload.id);
      if (submitted.event.event !== 'PAYOUT_SETTLED') {
        const arrival = String(submitted.event.payload.expectedArrivalDate ?? '');
        const later = arrival !== '' && arrival > latestTodayOnEarth();
        current = `step 8/${STEPS} (settlement of payout ${payoutId})`;
        const settled = await guarded(
          waitFor('PAYOUT_SETTLED', payoutOf('PAYOUT_SETTLED'), {
            fail: returned,
            onTimeout: payoutState,
            ...(later ? { untilMs: LATE_SETTLEMENT_GRACE_MS } : {}),
          }),
        );
        if (!settled)
          out(
            `      payout ${payoutId} is submitted on rail ${str(submitted.event.payload.rail)}; the bank settles it on ${arrival} (PAYOUT_SETTLED then). Sandbox: POST /sandbox/time/advance moves time forward.`,
          );
      }
    } finally {
      clearInterval(peek);
    }

    out('');
    out(`Done in ${(elapsed() / 1000).toFixed(1)} s: ${arrivals.length} webhooks for this run, every one with verified signatures.`);
    out(
      `  customer ${customerId} · bank account ${bankAccountId} · flow ${flowId} · deposit ${depositId} · trade ${tradeId} · payout ${payoutId}`,
    );
    return { customerId, bankAccountId, flowId, depositAddress, depositId, tradeId, payoutId, events: arrivals.map((a) => a.event.event) };
  } finally {
    if (previous) {
      try {
        await api('POST', '/callback-url', { callbackUrl: previous.callbackUrl }, { abortable: false });
        await api('POST', '/subscribed-events', { events: previous.events }, { abortable: false });
        out(`Webhook settings restored: callback URL ${previous.callbackUrl || 'none'}, ${previous.events.length} subscribed events.`);
      } catch (err) {
        out(
          `Could not restore the webhook settings (${(err as Error).message}): set them again with POST /callback-url and POST /subscribed-events (previous callback URL: ${previous.callbackUrl || 'none'}).`,
        );
      }
    }
    for (const t of timers) clearTimeout(t);
    if (inboxTimer) clearTimeout(inboxTimer);
    waiters.length = 0;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const USAGE = `usage: openramp demo [--url <server URL>] [--credentials <file>] [--timeout <seconds>] [--amount <USDT>]

Runs the integration guide's offramp journey against a running sandbox server and prints each
webhook as it arrives. Without --url it uses the server running on the data folder
(OPENRAMP_DATA_DIR, default ./.openramp); without --credentials, the sandbox partner in
<data dir>/${SANDBOX_PARTNER_FILE}. The partner's callback URL and subscriptions are pointed at
the demo's receiver while it runs and put back when it ends.`;

interface Credentials {
  apiKey: string;
  apiSecret: string;
  webhookSecret: string;
}

function readCredentials(file: string): Credentials {
  if (!existsSync(file)) {
    throw new DemoError(
      `no partner credentials at ${file}: start the sandbox server once with npm start (it writes them there), or pass --credentials <file> with {apiKey, apiSecret, webhookSecret}`,
    );
  }
  let json: Json;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (err) {
    throw new DemoError(`cannot read ${file} as JSON (${(err as Error).message})`);
  }
  for (const k of ['apiKey', 'apiSecret', 'webhookSecret'] as const) {
    if (typeof json[k] !== 'string' || json[k] === '')
      throw new DemoError(`${file} has no ${k}: expected {apiKey, apiSecret, webhookSecret}`);
  }
  return { apiKey: json.apiKey, apiSecret: json.apiSecret, webhookSecret: json.webhookSecret };
}

/**
 * The `demo` command: finds the server and the credentials, runs the demo, returns the exit
 * code (0 success, 1 the journey failed, 2 bad usage or nothing to run against).
 * `findServer` is the CLI's running-server lookup (server.json with a live pid).
 */
export async function demoCommand(
  config: Config,
  args: string[],
  findServer: (config: Config) => { url: string } | null,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  err: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<number> {
  let values: { url?: string; credentials?: string; timeout?: string; amount?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        credentials: { type: 'string' },
        timeout: { type: 'string' },
        amount: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err(`openramp demo: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    out(USAGE);
    return 0;
  }
  let timeoutMs = DEMO_TIMEOUT_MS_DEFAULT;
  if (values.timeout !== undefined) {
    if (!/^\d{1,5}$/.test(values.timeout) || Number(values.timeout) < 1) {
      err('openramp demo: --timeout must be a whole number of seconds (1 or more)');
      return 2;
    }
    timeoutMs = Number(values.timeout) * 1000;
  }
  if (values.amount !== undefined && !new RegExp(`^\\d{1,12}(\\.\\d{1,${ASSET_SCALE.USDT}})?$`).test(values.amount)) {
    err(`openramp demo: --amount must be a positive USDT amount with at most ${ASSET_SCALE.USDT} decimals, e.g. 250`);
    return 2;
  }
  let url = values.url;
  if (url !== undefined && !/^https?:\/\/[^/]+/.test(url)) {
    err('openramp demo: --url must be an http(s) URL such as http://127.0.0.1:8080');
    return 2;
  }
  if (url === undefined) {
    const server = findServer(config);
    if (!server) {
      const stale = existsSync(path.join(config.dataDir, SERVER_FILE)) ? ' (its server.json names a process that is gone)' : '';
      err(
        `openramp demo: no OpenRamp server is running on the data folder ${config.dataDir}${stale}: start one with npm start (in another terminal), or pass --url <server URL>`,
      );
      return 2;
    }
    url = server.url;
  }
  let creds: Credentials;
  try {
    creds = readCredentials(values.credentials ? path.resolve(values.credentials) : path.join(config.dataDir, SANDBOX_PARTNER_FILE));
  } catch (e) {
    err(`openramp demo: ${(e as Error).message}`);
    return 2;
  }

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await runDemo({ url, ...creds, out, timeoutMs, signal: abort.signal, ...(values.amount ? { amount: values.amount } : {}) });
    return 0;
  } catch (e) {
    if (e instanceof DemoError) {
      err(`openramp demo: FAILED — ${e.message}`);
      return abort.signal.aborted ? 130 : 1;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
