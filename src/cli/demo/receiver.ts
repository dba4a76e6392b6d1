/**
 * The demo's webhook receiver: a local HTTP server that verifies both signature schemes with the
 * SDK (X-Signature HMAC and Standard Webhooks), drops duplicate deliveries, prints each webhook as
 * it arrives, and hands the run's webhooks to the journey's steps waiting for them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, type WebhookEvent } from '../../../sdk/src/index.ts';
import { DemoError, type Json, secondsText, str } from './shared.ts';

/**
 * The dispatcher sends webhooks concurrently, so two sent together (DEPOSIT_RECEIVED and
 * DEPOSIT_APPROVED from one scanner pass, PAYOUT_SUBMITTED and PAYOUT_SETTLED from one bank
 * run) may arrive in either order. The receiver holds each arrival this long and prints what
 * arrived together in event order; printed times are arrival times.
 */
const ORDER_HOLD_MS = 250;

export interface Arrival {
  event: WebhookEvent<Json>;
  elapsedMs: number;
  /** "signatures: hmac ✓ standard ✓" */
  marks: string;
}

interface Waiter {
  match: (a: Arrival) => boolean;
  resolve: (a: Arrival) => void;
}

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
  return `+${secondsText(ms)}`.padStart(8);
}

export interface ReceiverOptions {
  apiSecret: string;
  /** The partner's `whsec_` secret. */
  webhookSecret: string;
  out: (line: string) => void;
  /** `performance.now()` when the journey started: printed times and the deadline count from it. */
  started: number;
  /** Whole journey, from the first call to the last webhook. */
  timeoutMs: number;
  /** Where the journey is, for a timeout message ("step 7/8 (deposit to …)"). */
  step: () => string;
  /** Aborts every wait. */
  signal?: AbortSignal | undefined;
}

export interface WaitOptions {
  /** A reason to give up at once, for an arrival that means the awaited one will not come. */
  fail?: (a: Arrival) => string | null;
  /** Resolve null after this long instead of failing at the deadline (when it comes first). */
  untilMs?: number;
  /** More to say in the timeout error (e.g. the payout's current state). */
  onTimeout?: () => Promise<string>;
}

export interface Receiver {
  /** Where the partner's callback URL must point. */
  callbackUrl: string;
  /** Webhooks of this run, in the order printed. */
  arrivals: readonly Arrival[];
  /** Starts following `customerId`'s webhooks: until then arrivals are held, then printed. */
  follow(customerId: string): void;
  /** Resolves with the first arrival (already received or coming) that matches; fails at the deadline (or resolves null at `untilMs`). */
  waitFor(what: string, match: (a: Arrival) => boolean, w?: WaitOptions): Promise<Arrival | null>;
  /** `p`, or the receiver's failure (a webhook with a bad signature) if that comes first. */
  guarded<T>(p: Promise<T>): Promise<T>;
  /** Stops the timers, drops the waiting steps and closes the server. */
  close(): Promise<void>;
}

export async function startReceiver(opts: ReceiverOptions): Promise<Receiver> {
  const out = opts.out;
  const started = opts.started;
  const deadline = started + opts.timeoutMs;
  const elapsed = () => performance.now() - started;

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
  receiverFailed.catch(() => {}); // observed through Promise.race in guarded

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
      `timed out after ${secondsText(elapsed())} (limit ${secondsText(opts.timeoutMs)}, --timeout) at ${opts.step()}, waiting for ${what}. Webhooks of this run so far: ${got}.${none}${extra}`,
    );
  }

  const timers = new Set<NodeJS.Timeout>();
  function waitFor(what: string, match: (a: Arrival) => boolean, w: WaitOptions = {}): Promise<Arrival | null> {
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

  return {
    callbackUrl,
    arrivals,
    follow(id) {
      customerId = id;
      release();
    },
    waitFor,
    guarded: <T>(p: Promise<T>): Promise<T> => Promise.race([p, receiverFailed]),
    async close() {
      for (const t of timers) clearTimeout(t);
      if (inboxTimer) clearTimeout(inboxTimer);
      waiters.length = 0;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
