import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTestContext, onboard, type TestContext } from './helpers/harness.ts';
import { createTwoAppsOnOneDatabase } from './helpers/second-app.ts';
import { frozenClock, listen, signedWire, wire, type WireResponse } from './helpers/wire.ts';
import { onEachCommit } from './helpers/commit-hook.ts';
import { encodeMultipart, signRequest as sdkSignRequest } from '../sdk/src/index.ts';
import { AppError } from '../src/infra/lib/errors.ts';
import { IDEMPOTENCY_PURGE_JOB, schedulePurge } from '../src/infra/idempotency/store.ts';
import type { OpenRamp } from '../src/app.ts';

/**
 * Idempotency-Key on partner POSTs (docs/api-contract.md, "Idempotency keys"), over a real
 * socket: replays are compared byte for byte, headers as they arrive. Concurrency is made
 * deterministic by holding the first request inside its handler until the second has been
 * answered; time (leases, retention) moves on a frozen clock, never by sleeping.
 */

type Creds = { apiKey: string; apiSecret: string; partnerId: string };
const uniq = () => randomBytes(5).toString('hex');
const newKey = () => `key-${uniq()}`;

function assertEnvelope(r: WireResponse, httpStatus: number, code: string, contract: 'INVALID_PARAMETERS' | 'FAILED') {
  assert.equal(r.status, httpStatus, r.body);
  assert.deepEqual(Object.keys(r.json ?? {}).sort(), ['message', 'status'], r.body);
  assert.equal(r.json.status, contract, r.body);
  assert.equal(r.headers['x-error-code'], code, r.body);
}

async function count(app: OpenRamp, table: 'customers' | 'bank_accounts' | 'deposit_addresses' | 'flows', where: Record<string, string>) {
  let q = app.services.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n'));
  for (const [k, v] of Object.entries(where)) q = q.where(k as never, '=', v as never);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** A gate a wrapped service waits at: `reached` resolves when a call arrives, `open()` lets it through. */
function gate() {
  let reach!: () => void;
  let open!: () => void;
  const reached = new Promise<void>((r) => {
    reach = r;
  });
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return {
    reached,
    open,
    async pass() {
      reach();
      await opened;
    },
  };
}

describe('idempotency keys: one server', () => {
  let ctx: TestContext;
  let port: number;
  let creds: Creds;
  const clock = frozenClock();
  before(async () => {
    ctx = await createTestContext({ authClock: clock, env: { OPENRAMP_IDEMPOTENCY_RETENTION_MS: '3600000' } });
    creds = ctx.partner;
    port = await listen(ctx);
  });
  after(() => ctx.close());

  const post = (url: string, body: unknown, key?: string | string[], as: Creds = creds) =>
    signedWire(
      port,
      { method: 'POST', url, body, creds: as },
      { clock, ...(key !== undefined ? { headers: { 'Idempotency-Key': key } } : {}) },
    );
  const customerBody = (email = `${uniq()}@example.com`) => ({ name: 'Ida Key', email, type: 'DEPOSITOR', isIndividual: true });

  it('the same request again replays status, headers and body byte for byte with Idempotent-Replayed: true; one customer', async () => {
    const key = newKey();
    const body = customerBody();
    const first = await post('/customer/create', body, key);
    assert.equal(first.status, 200, first.body);
    assert.equal(first.headers['idempotent-replayed'], undefined, 'the first answer is not a replay');
    const again = await post('/customer/create', body, key);
    assert.equal(again.status, 200);
    assert.equal(again.body, first.body, 'byte-identical body');
    assert.equal(again.headers['content-type'], first.headers['content-type']);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(await count(ctx.openramp, 'customers', { email: body.email }), 1, 'one customer');
    // Without the key the same body is a new request (and the email is taken).
    const unkeyed = await post('/customer/create', body);
    assertEnvelope(unkeyed, 422, 'CONFLICT', 'FAILED');
  });

  it('a 4xx answer is stored and replayed too, with its error code', async () => {
    const key = newKey();
    const bad = { name: 'No Email' };
    const first = await post('/customer/create', bad, key);
    assertEnvelope(first, 422, 'INVALID_PARAMETERS', 'INVALID_PARAMETERS');
    const again = await post('/customer/create', bad, key);
    assert.equal(again.status, 422);
    assert.equal(again.body, first.body);
    assert.equal(again.headers['x-error-code'], 'INVALID_PARAMETERS');
    assert.equal(again.headers['idempotent-replayed'], 'true');
  });

  it('the same key with a different body (or query) → 422 IDEMPOTENCY_KEY_REUSED naming the key; nothing written', async () => {
    const key = newKey();
    assert.equal((await post('/customer/create', customerBody(), key)).status, 200);
    const other = customerBody();
    const reused = await post('/customer/create', other, key);
    assertEnvelope(reused, 422, 'IDEMPOTENCY_KEY_REUSED', 'INVALID_PARAMETERS');
    assert.ok(reused.json.message.includes(key), reused.body);
    assert.equal(reused.headers['idempotent-replayed'], undefined);
    assert.equal(await count(ctx.openramp, 'customers', { email: other.email }), 0, 'the second body wrote nothing');
    // The query string is part of the request too (here it is also refused as undeclared — after the key check).
    const withQuery = await signedWire(
      port,
      { method: 'POST', url: '/customer/create?x=1', body: customerBody(), creds },
      { clock, headers: { 'Idempotency-Key': key } },
    );
    assertEnvelope(withQuery, 422, 'IDEMPOTENCY_KEY_REUSED', 'INVALID_PARAMETERS');
  });

  it('keys are scoped to the partner and the route', async () => {
    const key = newKey();
    assert.equal((await post('/customer/create', customerBody(), key)).status, 200);
    const neighbour = await ctx.openramp.services.partners.create('Key Neighbour');
    const theirs = await post('/customer/create', customerBody(), key, neighbour);
    assert.equal(theirs.status, 200, theirs.body);
    assert.equal(theirs.headers['idempotent-replayed'], undefined, "another partner's key is its own");
    const otherRoute = await post('/callback-url', { callbackUrl: '' }, key);
    assert.equal(otherRoute.status, 200, otherRoute.body);
    assert.equal(otherRoute.headers['idempotent-replayed'], undefined, 'another route is another scope');
  });

  it('key syntax: 1–255 printable ASCII, sent once; otherwise 422 and nothing written', async () => {
    const cases: [string | string[], RegExp][] = [
      ['', /1–255 printable ASCII/],
      ['x'.repeat(256), /1–255 printable ASCII/],
      ['cl\u00e9', /1–255 printable ASCII/],
      [['a', 'b'], /exactly once/],
    ];
    for (const [key, message] of cases) {
      const body = customerBody();
      const r = await post('/customer/create', body, key);
      assertEnvelope(r, 422, 'INVALID_PARAMETERS', 'INVALID_PARAMETERS');
      assert.match(r.json.message, /^Idempotency-Key: /, r.body);
      assert.match(r.json.message, message, r.body);
      assert.equal(await count(ctx.openramp, 'customers', { email: body.email }), 0, `${JSON.stringify(key)} wrote nothing`);
    }
    // 255 characters, spaces and punctuation included, are fine.
    const longest = `a b!~${'z'.repeat(250)}`;
    assert.equal(longest.length, 255);
    assert.equal((await post('/customer/create', customerBody(), longest)).status, 200);
  });

  it('GET ignores the header', async () => {
    const key = newKey();
    const a = await signedWire(port, { method: 'GET', url: '/basic-info', creds }, { clock, headers: { 'Idempotency-Key': key } });
    const b = await signedWire(port, { method: 'GET', url: '/basic-info', creds }, { clock, headers: { 'Idempotency-Key': key } });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(b.headers['idempotent-replayed'], undefined);
  });

  it('a 5xx frees the key: the retry runs again', async () => {
    const s = ctx.openramp.services;
    const create = s.customers.create;
    let failures = 0;
    s.customers.create = async (...args) => {
      if (failures++ === 0) throw new Error('injected failure before any write');
      return create.apply(s.customers, args);
    };
    try {
      const key = newKey();
      const body = customerBody();
      const failed = await post('/customer/create', body, key);
      assertEnvelope(failed, 500, 'INTERNAL', 'FAILED');
      assert.equal(await count(ctx.openramp, 'customers', { email: body.email }), 0);
      const retried = await post('/customer/create', body, key);
      assert.equal(retried.status, 200, retried.body);
      assert.equal(retried.headers['idempotent-replayed'], undefined, 'the retry ran, it was not replayed');
      assert.equal(await count(ctx.openramp, 'customers', { email: body.email }), 1);
    } finally {
      s.customers.create = create;
    }
  });

  it('two concurrent requests with one key: one 200, one 409 IDEMPOTENCY_KEY_IN_USE with Retry-After; one customer', async () => {
    const s = ctx.openramp.services;
    const create = s.customers.create;
    const g = gate();
    s.customers.create = async (...args) => {
      await g.pass();
      return create.apply(s.customers, args);
    };
    try {
      const key = newKey();
      const body = customerBody();
      const first = post('/customer/create', body, key);
      await g.reached; // the first request holds the key and is inside its handler
      const second = await post('/customer/create', body, key);
      assertEnvelope(second, 409, 'IDEMPOTENCY_KEY_IN_USE', 'FAILED');
      assert.match(String(second.headers['retry-after']), /^[1-9]\d*$/);
      assert.ok(second.json.message.includes(key));
      g.open();
      const done = await first;
      assert.equal(done.status, 200, done.body);
      assert.equal(await count(ctx.openramp, 'customers', { email: body.email }), 1, 'one customer');
      const third = await post('/customer/create', body, key);
      assert.equal(third.body, done.body);
      assert.equal(third.headers['idempotent-replayed'], 'true');
    } finally {
      s.customers.create = create;
    }
  });

  it('multipart /bank-account/add: the fingerprint covers every part, file included', async () => {
    const { customerId } = await onboard(ctx, { name: 'Mia Schulz' });
    const form = (statement: string) =>
      encodeMultipart(
        {
          customerId,
          currency: 'EUR',
          bankName: 'Deutsche Bank',
          accountNo: '0532013000',
          iban: 'DE89370400440532013000',
          swift: 'DEUTDEFF',
          accountName: 'Mia Schulz',
        },
        [{ field: 'statementFile', filename: 'statement.pdf', contentType: 'application/pdf', data: statement }],
        '----OpenRampIdempotencyBoundary',
      );
    const send = (f: ReturnType<typeof form>, key: string) => {
      const url = `http://127.0.0.1:${port}/bank-account/add`;
      const headers = {
        ...sdkSignRequest({ ...creds, method: 'POST', url, body: f.body, timestamp: Math.floor(clock.now().getTime() / 1000) }),
        'Content-Type': f.contentType,
        'Idempotency-Key': key,
      };
      return wire(port, { method: 'POST', path: '/bank-account/add', headers, body: f.body });
    };
    const key = newKey();
    const before = await count(ctx.openramp, 'bank_accounts', { customer_id: customerId });
    const first = await send(form('%PDF-1.4 statement one'), key);
    assert.equal(first.status, 200, first.body);
    const again = await send(form('%PDF-1.4 statement one'), key);
    assert.equal(again.body, first.body);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    // Same fields, another file: a different request.
    const otherFile = await send(form('%PDF-1.4 statement two'), key);
    assertEnvelope(otherFile, 422, 'IDEMPOTENCY_KEY_REUSED', 'INVALID_PARAMETERS');
    assert.equal(await count(ctx.openramp, 'bank_accounts', { customer_id: customerId }), before + 1, 'one bank account');
  });

  it('"keys required" mode: a POST without a key is refused and writes nothing; GETs and keyed POSTs pass', async () => {
    const partner = await ctx.openramp.services.partners.create('Strict Keys');
    const ops = (required: boolean) =>
      wire(port, {
        method: 'POST',
        path: `/ops/partners/${partner.partnerId}/idempotency`,
        headers: { authorization: `Bearer ${ctx.operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ required }),
      });
    const on = await ops(true);
    assert.equal(on.status, 200, on.body);
    assert.equal(on.json.data.idempotencyRequired, true);
    const body = customerBody();
    const refused = await post('/customer/create', body, undefined, partner);
    assertEnvelope(refused, 422, 'IDEMPOTENCY_KEY_REQUIRED', 'INVALID_PARAMETERS');
    assert.equal(await count(ctx.openramp, 'customers', { email: body.email }), 0);
    assert.equal((await signedWire(port, { method: 'GET', url: '/basic-info', creds: partner }, { clock })).status, 200);
    assert.equal((await post('/customer/create', body, newKey(), partner)).status, 200);
    assert.equal((await ops(false)).status, 200);
    assert.equal((await post('/customer/create', customerBody(), undefined, partner)).status, 200);
    // Without the operator token the setting cannot change.
    const anon = await wire(port, {
      method: 'POST',
      path: `/ops/partners/${partner.partnerId}/idempotency`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ required: true }),
    });
    assert.equal(anon.status, 401);
  });

  it('after the retention period the key is free again, and the purge job deletes expired keys', async () => {
    const s = ctx.openramp.services;
    const key = newKey();
    const first = await post('/customer/create', customerBody(), key);
    assert.equal(first.status, 200);
    const stored = () =>
      s.db
        .selectFrom('idempotency_keys')
        .select('state')
        .where('partner_id', '=', creds.partnerId)
        .where('idempotency_key', '=', key)
        .execute();
    assert.equal((await stored()).length, 1);
    clock.advance(3_600_000 - 1000);
    assertEnvelope(await post('/customer/create', customerBody(), key), 422, 'IDEMPOTENCY_KEY_REUSED', 'INVALID_PARAMETERS');
    clock.advance(1000);
    // Expired: the purge job (scheduled for the current slot, run by the queue) deletes it.
    await schedulePurge(s.jobs, { db: s.db, clock: s.clock });
    assert.ok((await s.jobs.runDue()) >= 1);
    assert.equal((await stored()).length, 0, 'purged');
    const next = await s.db
      .selectFrom('jobs')
      .select(['status', 'run_at'])
      .where('kind', '=', IDEMPOTENCY_PURGE_JOB)
      .where('status', '=', 'queued')
      .execute();
    assert.equal(next.length, 1, 'the next purge is scheduled');
    assert.ok(new Date(next[0]!.run_at).getTime() > s.clock.now().getTime());
    // The key is free: a different body runs.
    const body = customerBody();
    const reused = await post('/customer/create', body, key);
    assert.equal(reused.status, 200, reused.body);
    assert.equal(reused.headers['idempotent-replayed'], undefined);
    assert.equal(await count(ctx.openramp, 'customers', { email: body.email }), 1);
  });

  it('an expired key is free even before the purge runs', async () => {
    const key = newKey();
    assert.equal((await post('/customer/create', customerBody(), key)).status, 200);
    clock.advance(3_600_000);
    const r = await post('/customer/create', customerBody(), key);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['idempotent-replayed'], undefined);
  });
});

describe('idempotency keys: two server processes on one database', () => {
  const clock = frozenClock();
  let pair: Awaited<ReturnType<typeof createTwoAppsOnOneDatabase>>;
  let portA: number;
  let portB: number;
  before(async () => {
    pair = await createTwoAppsOnOneDatabase({ authClock: clock });
    portA = await listen(pair.a);
    portB = await listen(pair.b);
  });
  after(() => pair.close());

  const post = (port: number, url: string, body: unknown, key: string) =>
    signedWire(port, { method: 'POST', url, body, creds: pair.a.partner }, { clock, headers: { 'Idempotency-Key': key } });

  it('a key reserved on A is in use on B until A answers; then B replays A’s answer; one customer', async () => {
    const s = pair.a.openramp.services;
    const create = s.customers.create;
    const g = gate();
    s.customers.create = async (...args) => {
      await g.pass();
      return create.apply(s.customers, args);
    };
    try {
      const key = newKey();
      const body = { name: 'Two Procs', email: `${uniq()}@example.com` };
      const onA = post(portA, '/customer/create', body, key);
      await g.reached;
      assertEnvelope(await post(portB, '/customer/create', body, key), 409, 'IDEMPOTENCY_KEY_IN_USE', 'FAILED');
      g.open();
      const a = await onA;
      assert.equal(a.status, 200, a.body);
      const b = await post(portB, '/customer/create', body, key);
      assert.equal(b.body, a.body);
      assert.equal(b.headers['idempotent-replayed'], 'true');
      assert.equal(await count(pair.a.openramp, 'customers', { email: body.email }), 1);
    } finally {
      s.customers.create = create;
    }
  });
});

/**
 * Kills `app` right after the next database transaction commits: its idempotency store is
 * abandoned (no lease renewal, nothing more written — what a dead process does) and the request
 * fails. The database is shared with the other app, so only one transaction is targeted: the
 * next one to commit, with nothing else running.
 */
function crashAfterNextCommit(app: OpenRamp) {
  const state = { fired: 0 };
  const commits = onEachCommit(app.services.db, () => {
    if (state.fired++ === 0) {
      app.services.idempotency.abandon();
      throw new AppError('DEPENDENCY_UNAVAILABLE', 'injected crash after commit');
    }
  });
  return { state, restore: () => commits.restore() };
}

/**
 * The routes whose work has a natural key (docs/api-contract.md, "What a crash can and cannot
 * do"): re-running them after a crash finds the object the dead process created.
 */
const CRASH_CASES: {
  route: string;
  setup(
    pair: Awaited<ReturnType<typeof createTwoAppsOnOneDatabase>>,
  ): Promise<{ body: unknown; objects(): Promise<number>; idOf(json: any): string }>;
}[] = [
  {
    route: '/customer/create',
    async setup(pair) {
      const externalId = `ext-${uniq()}`;
      return {
        body: { name: 'Crash Once', email: `${uniq()}@example.com`, externalId },
        objects: () => count(pair.a.openramp, 'customers', { external_id: externalId }),
        idOf: (json) => json.customerId,
      };
    },
  },
  {
    route: '/deposit-address/create',
    async setup(pair) {
      const { customerId } = await onboard(pair.b, { name: 'Addr Crash' });
      return {
        body: { customerId, currency: 'USDT', network: 'ETH' },
        objects: () => count(pair.a.openramp, 'deposit_addresses', { customer_id: customerId }),
        idOf: (json) => json.data.id,
      };
    },
  },
  {
    route: '/autoramp-flow/offramp',
    async setup(pair) {
      const { customerId, bankAccountId } = await onboard(pair.b, { name: 'Flow Crash' });
      return {
        body: { from: { customerId, currency: 'USDT', network: 'TRX' }, to: bankAccountId },
        objects: () => count(pair.a.openramp, 'flows', { customer_id: customerId }),
        idOf: (json) => json.flowId,
      };
    },
  },
];

describe('idempotency keys: a crash after the commit, before the response is stored', () => {
  for (const c of CRASH_CASES) {
    it(`${c.route}: the retry waits out the dead owner's lease, then answers the same object; nothing new is created`, async () => {
      const clock = frozenClock();
      const pair = await createTwoAppsOnOneDatabase({ authClock: clock, env: { OPENRAMP_IDEMPOTENCY_LEASE_MS: '5000' } });
      try {
        const [portA, portB] = [await listen(pair.a), await listen(pair.b)];
        const { body, objects, idOf } = await c.setup(pair);
        const key = newKey();
        const post = (port: number) =>
          signedWire(port, { method: 'POST', url: c.route, body, creds: pair.a.partner }, { clock, headers: { 'Idempotency-Key': key } });

        const crash = crashAfterNextCommit(pair.a.openramp);
        let died: WireResponse;
        try {
          died = await post(portA);
        } finally {
          crash.restore();
        }
        assert.equal(crash.state.fired, 1, 'the crash was injected once');
        assert.notEqual(died.status, 200, 'the client never got an answer from the dead process');
        assert.equal(await objects(), 1, 'the work committed before the crash');

        // The reservation outlives its dead owner until the lease lapses.
        assertEnvelope(await post(portB), 409, 'IDEMPOTENCY_KEY_IN_USE', 'FAILED');
        clock.advance(5000);
        const retried = await post(portB);
        assert.equal(retried.status, 200, retried.body);
        assert.equal(await objects(), 1, 'no second object');
        const [row] = await pair.b.openramp.services.db
          .selectFrom(c.route === '/customer/create' ? 'customers' : c.route === '/deposit-address/create' ? 'deposit_addresses' : 'flows')
          .select('id')
          .where('id', '=', idOf(retried.json))
          .execute();
        assert.ok(row, 'the answer names the object the dead process created');
        // From now on the answer is stored: replayed byte for byte, by either process.
        const replayed = await post(portB);
        assert.equal(replayed.body, retried.body);
        assert.equal(replayed.headers['idempotent-replayed'], 'true');
      } finally {
        await pair.close();
      }
    });
  }
});
