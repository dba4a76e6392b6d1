import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signRequest } from '../sdk/src/index.ts';
import { createTestContext, type TestContext } from './helpers/harness.ts';
import { pipelineRound } from './helpers/pipeline.ts';
import { expectOnce, loadGuideSamples, removeOnExit, replaceOnce, sampleEnv } from './helpers/guide-samples.ts';
import { REFERENCE, skipWithoutReference } from './helpers/reference.ts';
import { createAdjustableClock } from '../src/infra/lib/clock.ts';

/**
 * The integration guide's Flask webhook handler (its Python sample, read from
 * the reference folder at test time) receives real deliveries from a listening OpenRamp —
 * DEPOSIT_RECEIVED, DEPOSIT_APPROVED, TRADE_CREATED, TRADE_SETTLED, with `data` and
 * `data.tradeId` as the sample reads them — and handles every one without error.
 */
const GUIDE_BASE_URL = 'https://ramp.hexarails.ai';
const FLASK_START_TIMEOUT_MS = 30_000;
const PIPELINE_ROUNDS_MAX = 40;

const DRIVER = [
  'import sys',
  'sys.path.insert(0, sys.argv[1])',
  'import guide_sample',
  "guide_sample.app.run(host='127.0.0.1', port=int(sys.argv[2]))",
].join('\n');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function killGroup(child: ChildProcess | undefined): void {
  if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL'); // detached: the driver leads its own process group
  } catch {
    child.kill('SIGKILL');
  }
}

describe("the guide's Flask webhook handler receives the offramp webhooks", {
  skip: skipWithoutReference('guide Flask webhook handler', REFERENCE.guide),
}, () => {
  let ctx: TestContext;
  let apiUrl: string;
  let flask: ChildProcess | undefined;
  let flaskOut = '';
  let flaskErr = '';
  let callbackUrl: string;
  let removeDir: () => void;
  const clock = createAdjustableClock();

  const flaskOutput = () => `--- flask stdout ---\n${flaskOut}\n--- flask stderr ---\n${flaskErr}`;

  /** A partner's signed call to the listening server, signed with the SDK. */
  async function api(method: 'GET' | 'POST', route: string, body?: unknown): Promise<any> {
    const url = `${apiUrl}${route}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...signRequest({
        apiKey: ctx.partner.apiKey,
        apiSecret: ctx.partner.apiSecret,
        method,
        url,
        ...(payload !== undefined ? { body: payload } : {}),
      }),
    };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    const json = (await res.json()) as any;
    assert.equal(res.status, 200, `${method} ${route}: ${JSON.stringify(json)}`);
    return json;
  }

  before(async () => {
    // The sample as published, with only its base URL and signed host pointed at the local server.
    let code = loadGuideSamples().python;
    expectOnce(code, '@app.route("/webhooks/coinut", methods=["POST"])', 'python webhook route');
    expectOnce(code, 'if __name__ == "__main__":\n    app.run(port=3000)', 'python sample runs Flask only as a script');

    ctx = await createTestContext({ clock, env: { OPENRAMP_SANDBOX_FINALITY_DEPTH: '2', OPENRAMP_MIN_DEPOSIT_TRX: '1' } });
    await ctx.openramp.api.listen({ host: '127.0.0.1', port: 0 });
    apiUrl = `http://127.0.0.1:${(ctx.openramp.api.server.address() as AddressInfo).port}`;
    code = replaceOnce(code, `BASE_URL = "${GUIDE_BASE_URL}"`, `BASE_URL = "${apiUrl}"`, 'python base URL');
    code = replaceOnce(code, 'host = "ramp.hexarails.ai"', `host = "${new URL(apiUrl).host}"`, 'python signed host');

    const dir = mkdtempSync(path.join(tmpdir(), 'openramp-guide-flask-'));
    removeDir = removeOnExit(dir);
    writeFileSync(path.join(dir, 'guide_sample.py'), code);

    const port = await freePort();
    callbackUrl = `http://127.0.0.1:${port}/webhooks/coinut`;
    flask = spawn('python3', ['-u', '-c', DRIVER, dir, String(port)], {
      cwd: dir,
      env: sampleEnv(ctx.partner),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    process.once('exit', () => killGroup(flask));
    flask.stdout!.setEncoding('utf8').on('data', (d: string) => (flaskOut += d));
    flask.stderr!.setEncoding('utf8').on('data', (d: string) => (flaskErr += d));

    // Up when the route answers (405 to a GET: the handler only takes POST).
    const startBy = Date.now() + FLASK_START_TIMEOUT_MS;
    for (;;) {
      if (flask.exitCode !== null) assert.fail(`the Flask driver exited with ${flask.exitCode}\n${flaskOutput()}`);
      if (Date.now() > startBy) assert.fail(`Flask did not answer on ${callbackUrl} within ${FLASK_START_TIMEOUT_MS} ms\n${flaskOutput()}`);
      try {
        const res = await fetch(callbackUrl);
        if (res.status === 405) break;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    killGroup(flask);
    await ctx?.close();
    removeDir?.();
  });

  /** Sandbox chain, scanners, jobs, payouts and webhook deliveries, one round at a time. */
  const round = () => pipelineRound(ctx, { deliverWebhooks: true });

  it('DEPOSIT_RECEIVED, DEPOSIT_APPROVED, TRADE_CREATED and TRADE_SETTLED reach the handlers, all answered 200', async () => {
    await api('POST', '/callback-url', { callbackUrl });
    const subs = await api('GET', '/subscribed-events');
    await api('POST', '/subscribed-events', { events: subs.data.available });

    const customer = await api('POST', '/customer/create', {
      name: 'John Doe',
      email: `flask-${Date.now()}@example.com`,
      type: 'DEPOSITOR',
      isIndividual: true,
      externalId: `flask-${Date.now()}`,
    });
    const bank = await api('POST', '/bank-account/add', {
      customerId: customer.customerId,
      currency: 'EUR',
      bankName: 'Deutsche Bank',
      accountNo: '1234567890',
      iban: 'DE89370400440532013000',
      swift: 'DEUTDEFF',
      accountName: 'John Doe',
    });
    const flow = await api('POST', '/autoramp-flow/offramp', {
      from: { customerId: customer.customerId, currency: 'USDT', network: 'TRX' },
      to: bank.bankAccountId,
    });
    await api('POST', '/deposit/mock', {
      currency: 'USDT',
      amount: '250',
      senderName: 'Sender',
      senderAccountNo: 'x',
      receiverAccountNo: flow.data.depositAddress,
      network: 'TRX',
    });

    const settledLine = 'Trade settled! Fiat sent to bank account.';
    for (let i = 0; i < PIPELINE_ROUNDS_MAX && !flaskOut.includes(settledLine); i++) {
      await round();
      await new Promise((r) => setTimeout(r, 20)); // let the Flask process's output arrive
    }

    const trade = await ctx.openramp.services.db
      .selectFrom('trades')
      .select(['id', 'status'])
      .where('flow_id', '=', flow.flowId)
      .executeTakeFirst();
    assert.ok(trade, `a trade for flow ${flow.flowId}\n${flaskOutput()}`);
    assert.equal(trade.status, 'SETTLED');

    // The four handlers ran, with the payload fields the sample reads (`data.amount`, `data.currency`,
    // `data.tradeId`). Deliveries go out concurrently and Flask serves them on threads, so the
    // order of these lines is not part of the contract (receivers order by `payload.version`).
    for (const line of [
      'Deposit received: 250.000000 USDT',
      'Deposit approved. Trade will execute shortly.',
      `Trade created: ${trade.id}`,
      settledLine,
    ]) {
      assert.ok(flaskOut.includes(line), `Flask printed "${line}"\n${flaskOutput()}`);
    }

    // Every delivery answered 200 and nothing blew up inside Flask.
    assert.doesNotMatch(flaskErr, /Traceback|Internal Server Error/, flaskOutput());
    const codes = [...flaskErr.matchAll(/"POST \/webhooks\/coinut HTTP\/1\.1" (\d{3})/g)].map((m) => m[1]);
    assert.ok(codes.length >= 4, `at least four webhook requests logged by Flask\n${flaskOutput()}`);
    assert.deepEqual([...new Set(codes)], ['200'], flaskOutput());

    // …and the server's delivery log says the same.
    const log = await api('GET', '/webhook-delivery/list?pageSize=100');
    for (const event of ['DEPOSIT_RECEIVED', 'DEPOSIT_APPROVED', 'TRADE_CREATED', 'TRADE_SETTLED']) {
      const d = (log.data.list as any[]).find((x) => x.event === event);
      assert.ok(d, `a ${event} delivery in the log: ${JSON.stringify(log.data.list.map((x: any) => x.event))}`);
      assert.equal(d.status, 'SUCCEEDED', JSON.stringify(d));
      assert.ok(d.lastStatusCode >= 200 && d.lastStatusCode < 300, JSON.stringify(d));
      assert.equal(d.attempts[0]?.url, callbackUrl);
      assert.ok(
        d.attempts.every((a: any) => a.statusCode >= 200 && a.statusCode < 300),
        JSON.stringify(d.attempts),
      );
    }
  });
});
