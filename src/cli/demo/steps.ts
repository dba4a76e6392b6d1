/**
 * The journey of `openramp demo`: the integration guide's offramp, step by step, against a running
 * sandbox server — customer and KYC, EUR bank account, offramp flow and deposit address, a mock
 * deposit, the deposit and trade webhooks, the payout — each step waiting for the webhook that
 * says it is done.
 */
import { randomBytes } from 'node:crypto';
import { apiClient } from './client.ts';
import { type Arrival, startReceiver } from './receiver.ts';
import { DemoError, type Json, secondsText, str } from './shared.ts';

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

export const DEMO_TIMEOUT_MS_DEFAULT = 120_000;
const DEMO_AMOUNT_DEFAULT = '250';
const NETWORK = 'TRX';
const CRYPTO = 'USDT';
/** After PAYOUT_SUBMITTED with a later arrival date, how long to wait in case the sandbox bank settles at once anyway. */
const LATE_SETTLEMENT_GRACE_MS = 5_000;
/** While waiting for the payout, how often to look at it (to explain a wait such as INSUFFICIENT_TREASURY_FUNDS). */
const PAYOUT_PEEK_INTERVAL_MS = 3_000;
const STEPS = 8;

/** The guide's example customer and EUR bank account (Step 1 and 2 of "Offramp Integration"). */
const GUIDE_NAME = 'John Doe';
const GUIDE_EUR_BANK = {
  currency: 'EUR',
  bankName: 'Deutsche Bank',
  accountNo: '0532013000',
  iban: 'DE89370400440532013000',
  swift: 'DEUTDEFF',
  accountName: GUIDE_NAME,
};

/** Today's date (YYYY-MM-DD) where it is latest on Earth (UTC+14): an arrival date after it is certainly a later day. */
function latestTodayOnEarth(now = new Date()): string {
  return new Date(now.getTime() + 14 * 3_600_000).toISOString().slice(0, 10);
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const out = opts.out;
  const base = opts.url.replace(/\/+$/, '');
  const amount = opts.amount ?? DEMO_AMOUNT_DEFAULT;
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const api = apiClient({ base, apiKey: opts.apiKey, apiSecret: opts.apiSecret, signal: opts.signal });
  let current = 'starting';
  const receiver = await startReceiver({
    apiSecret: opts.apiSecret,
    webhookSecret: opts.webhookSecret,
    out,
    started,
    timeoutMs: opts.timeoutMs,
    step: () => current,
    signal: opts.signal,
  });

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
    out(
      `[1/${STEPS}] Webhook receiver listening on ${receiver.callbackUrl} (verifies X-Signature and webhook-signature with @openramp/sdk)`,
    );
    await api('POST', '/callback-url', { callbackUrl: receiver.callbackUrl });
    out(`      POST /callback-url       → ${receiver.callbackUrl} (previous: ${prevUrl || 'none'}; put back when the demo ends)`);
    await api('POST', '/subscribed-events', { events: available });
    out(`      POST /subscribed-events  → all ${available.length} events`);

    // ---- 2. customer; wait for KYC -------------------------------------------------------------
    current = `step 2/${STEPS} (create customer)`;
    const tag = randomBytes(4).toString('hex');
    const email = `demo-${tag}@example.com`;
    const externalId = `demo-${tag}`;
    const created = await api('POST', '/customer/create', { name: GUIDE_NAME, email, type: 'DEPOSITOR', isIndividual: true, externalId });
    const customerId = String(created.customerId ?? (created.data as Json)?.id);
    out(`[2/${STEPS}] POST /customer/create  ${GUIDE_NAME} <${email}> externalId=${externalId} → ${customerId}`);
    receiver.follow(customerId);
    current = `step 2/${STEPS} (KYC of customer ${customerId})`;
    out(`      waiting for CUSTOMER_APPROVED (sandbox KYC decides after a short delay) …`);
    await receiver.guarded(
      receiver.waitFor('CUSTOMER_APPROVED', (a) => a.event.event === 'CUSTOMER_APPROVED' && a.event.payload.id === customerId, {
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
    const received = (await receiver.guarded(
      receiver.waitFor('DEPOSIT_RECEIVED', (a) => a.event.event === 'DEPOSIT_RECEIVED' && a.event.payload.flowId === flowId, {
        fail: depositFail,
      }),
    ))!;
    const depositId = String(received.event.payload.id);
    current = `step 7/${STEPS} (confirmations of deposit ${depositId})`;
    await receiver.guarded(
      receiver.waitFor('DEPOSIT_APPROVED', (a) => a.event.event === 'DEPOSIT_APPROVED' && a.event.payload.id === depositId, {
        fail: depositFail,
      }),
    );
    current = `step 7/${STEPS} (trade for deposit ${depositId})`;
    const tradeCreated = (await receiver.guarded(
      receiver.waitFor(
        'TRADE_CREATED',
        (a) =>
          a.event.event === 'TRADE_CREATED' && Array.isArray(a.event.payload.depositIds) && a.event.payload.depositIds.includes(depositId),
      ),
    ))!;
    const tradeId = String(tradeCreated.event.payload.tradeId ?? tradeCreated.event.payload.id);
    current = `step 7/${STEPS} (settlement of trade ${tradeId})`;
    await receiver.guarded(receiver.waitFor('TRADE_SETTLED', (a) => a.event.event === 'TRADE_SETTLED' && a.event.payload.id === tradeId));

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
      const submitted = (await receiver.guarded(
        receiver.waitFor('PAYOUT_SUBMITTED', (a) => payoutOf('PAYOUT_SUBMITTED')(a) || payoutOf('PAYOUT_SETTLED')(a), {
          fail: returned,
          onTimeout: payoutState,
        }),
      ))!;
      payoutId = String(submitted.event.payload.id);
      if (submitted.event.event !== 'PAYOUT_SETTLED') {
        const arrival = String(submitted.event.payload.expectedArrivalDate ?? '');
        const later = arrival !== '' && arrival > latestTodayOnEarth();
        current = `step 8/${STEPS} (settlement of payout ${payoutId})`;
        const settled = await receiver.guarded(
          receiver.waitFor('PAYOUT_SETTLED', payoutOf('PAYOUT_SETTLED'), {
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
    out(`Done in ${secondsText(elapsed())}: ${receiver.arrivals.length} webhooks for this run, every one with verified signatures.`);
    out(
      `  customer ${customerId} · bank account ${bankAccountId} · flow ${flowId} · deposit ${depositId} · trade ${tradeId} · payout ${payoutId}`,
    );
    return {
      customerId,
      bankAccountId,
      flowId,
      depositAddress,
      depositId,
      tradeId,
      payoutId,
      events: receiver.arrivals.map((a) => a.event.event),
    };
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
    await receiver.close();
  }
}
