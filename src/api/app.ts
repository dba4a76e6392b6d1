import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Histogram } from 'prom-client';
import { AppError } from '../infra/lib/errors.ts';
import { sendError } from './http.ts';
import { ping } from '../infra/db/database.ts';
import { createOperatorAuthenticator, createPartnerAuthenticator, type AuthDeps } from './auth.ts';
import { hardeningServerOptions, registerHardening } from './hardening.ts';
import { registerIdempotency } from './idempotency.ts';
import { refuseUnknownQueryParams } from './query-params.ts';
import type { IdempotencyStore } from '../infra/idempotency/store.ts';
import type { HardeningConfig } from '../config.ts';
import type { Services } from '../app.ts';
import { customerRoutes } from './routes/customers.ts';
import { bankAccountRoutes } from './routes/bank-accounts.ts';
import { depositAddressRoutes } from './routes/deposit-addresses.ts';
import { flowRoutes } from './routes/flows.ts';
import { commonRoutes } from './routes/common.ts';
import { frontDoorRoutes } from './routes/front-door.ts';
import { sandboxRoutes } from './routes/sandbox.ts';
import { operatorRoutes } from './routes/operator.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { depositRoutes } from './routes/deposits.ts';
import { tradeRoutes } from './routes/trades.ts';
import { payoutRoutes } from './routes/payouts.ts';

export interface ApiDeps {
  services: Services;
  logger: Logger;
  metrics: Registry;
  auth: AuthDeps;
  operatorToken: string;
  mode: 'sandbox' | 'production';
  bodyLimitBytes: number;
  /** Trusted proxies, HTTP timeouts, connection bound, auth-failure throttle (docs/security.md). */
  hardening: HardeningConfig;
  version: string;
  /** Random per process: lets the CLI tell the server it reached from the one its data folder names. */
  instanceId: string;
  idempotency: IdempotencyStore;
}

/** The multipart parser's file size limit (also bounds a multipart body above the body limit). */
const MULTIPART_FILE_BYTES_MAX = 5 * 1024 * 1024;

/** Turns an ajv error list into the contract's message: "field: rule" for the first problem. */
function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return err.message;
  const params = first.params as Record<string, unknown>;
  const base = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (first.keyword === 'required') {
    const field = [base, String(params.missingProperty)].filter(Boolean).join('.');
    return `${field}: is required`;
  }
  const field = base || (err.validationContext === 'body' ? 'body' : (err.validationContext ?? 'request'));
  if (first.keyword === 'enum') return `${field}: must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
  if (first.keyword === 'type' && field === 'body') return 'body: must be a JSON object';
  return `${field}: ${first.message ?? 'is invalid'}`;
}

/** A Content-Type header Fastify can parse (`type/subtype[; params]`); others it refuses with 415 before any hook. */
const MEDIA_TYPE = /^\s*[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+\s*(;|$)/;

/** Path of the first string value containing U+0000 (Postgres text cannot store it), iteratively: bodies may nest deeply. */
function findNul(value: unknown, root: string): string | null {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path;
    } else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
      for (const [k, child] of Object.entries(v)) stack.push([child, path ? `${path}.${k}` : k]);
    }
  }
  return null;
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    ...hardeningServerOptions(deps.hardening),
    genReqId: () => `req_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
  });
  // Before every other hook: refusals that need no body (and no route code) come first.
  const hardening = registerHardening(app, {
    config: deps.hardening,
    bodyLimitBytes: deps.bodyLimitBytes,
    multipartFileBytesMax: MULTIPART_FILE_BYTES_MAX,
    metrics: deps.metrics,
    clock: deps.auth.clock,
    partnerAuth: createPartnerAuthenticator(deps.auth),
    operatorAuth: createOperatorAuthenticator(deps.operatorToken),
  });
  // An unparseable Content-Type is reported after authentication, like any other body problem.
  const invalidContentType = new WeakMap<object, string>();
  app.addHook('onRequest', async (req) => {
    const ct = req.headers['content-type'];
    if (typeof ct === 'string' && !MEDIA_TYPE.test(ct)) {
      invalidContentType.set(req.raw, ct);
      req.headers['content-type'] = 'application/octet-stream';
    }
  });

  // Bodies: strict types (a string is not a number). Query strings: coerced, since they are text.
  const bodyAjv = addFormats.default(
    new Ajv.default({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false }),
  );
  const queryAjv = addFormats.default(
    new Ajv.default({ coerceTypes: true, useDefaults: true, removeAdditional: false, allErrors: false, strict: false }),
  );
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema));
  // Response schemas document; they never filter what we send.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  // Keep the raw bytes: signatures may be over them. Parse problems are reported after auth.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    req.rawBody = body;
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString('utf8')));
    } catch {
      req.bodyError = 'body: malformed JSON';
      done(null, undefined);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    req.rawBody = body;
    if (body.length > 0)
      req.bodyError = `body: unsupported Content-Type "${invalidContentType.get(req.raw) ?? req.headers['content-type'] ?? ''}" (use application/json or multipart/form-data)`;
    done(null, undefined);
  });

  const requestDuration = new Histogram({
    name: 'openramp_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [deps.metrics],
  });
  app.addHook('onResponse', async (req, reply) => {
    requestDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  // Key, timestamp and operator token were checked before the body (hardening's onRequest);
  // the signature needs the body. Multipart bodies are verified after parsing, below.
  app.addHook('preValidation', async (req) => {
    await hardening.authenticateBody(req);
    if (req.routeOptions.config.sandboxOnly && deps.mode !== 'sandbox') {
      throw new AppError('FORBIDDEN_IN_MODE', 'sandbox endpoints are disabled in production mode');
    }
    if (req.bodyError) throw new AppError('INVALID_PARAMETERS', req.bodyError);
  });

  // Registered after the auth hook so an unauthenticated upload is refused before it is read.
  // The plugin parses in its own preValidation hook; a request still marked when an error reaches
  // the error handler failed there (malformed multipart: the parser throws plain errors).
  const parsingMultipart = new WeakSet<object>();
  app.addHook('preValidation', async (req) => {
    if (req.isMultipart()) parsingMultipart.add(req.raw);
  });
  await app.register(multipart.default, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: MULTIPART_FILE_BYTES_MAX, files: 1, fields: 60, fieldSize: 4096, parts: 70 },
    async onFile(part) {
      const buf = await part.toBuffer();
      this.uploadedFiles ??= [];
      this.uploadedFiles.push({ field: part.fieldname, filename: part.filename, bytes: buf.length });
    },
  });

  app.addHook('preValidation', async (req) => {
    parsingMultipart.delete(req.raw);
    await hardening.authenticateMultipart(req);
  });
  // Authenticated from here on: Idempotency-Key (docs/api-contract.md), then undeclared query parameters.
  registerIdempotency(app, { store: deps.idempotency });
  app.addHook('preValidation', async (req) => refuseUnknownQueryParams(req));
  // Postgres text cannot hold U+0000: refuse it as a parameter problem instead of failing in SQL.
  app.addHook('preHandler', async (req) => {
    const at = findNul(req.query, '') ?? findNul(req.body, '');
    if (at !== null) throw new AppError('INVALID_PARAMETERS', `${at || 'body'}: must not contain the NUL character (\\u0000)`);
  });

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    // A multipart body that failed to parse is not authenticated yet: an unauthenticated
    // caller learns nothing about its body.
    const refusal = await hardening.settlePendingAuth(req);
    if (refusal) return sendError(reply, refusal, req.id);
    if (parsingMultipart.has(req.raw) && !(err instanceof AppError) && (err.statusCode === undefined || err.statusCode >= 500)) {
      return sendError(reply, new AppError('INVALID_PARAMETERS', `body: malformed multipart/form-data (${err.message})`), req.id);
    }
    if (err instanceof AppError) {
      if (err.internal) req.log.error({ err }, 'internal error');
      return sendError(reply, err, req.id);
    }
    if (err.validation) return sendError(reply, new AppError('INVALID_PARAMETERS', validationMessage(err)), req.id);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.code === 'FST_REQ_FILE_TOO_LARGE') {
      return sendError(
        reply,
        new AppError('PAYLOAD_TOO_LARGE', `body: larger than the ${err.code === 'FST_REQ_FILE_TOO_LARGE' ? 'file' : 'request'} size limit`),
        req.id,
      );
    }
    const status = err.statusCode ?? 500;
    if (status === 415) return sendError(reply, new AppError('UNSUPPORTED_MEDIA_TYPE', 'body: unsupported Content-Type'), req.id);
    if (status >= 400 && status < 500) {
      // Framework-level client errors (malformed multipart, bad content length, …).
      return sendError(reply, new AppError('INVALID_PARAMETERS', `request: ${err.message}`), req.id);
    }
    req.log.error({ err }, 'unhandled error');
    return sendError(reply, new AppError('INTERNAL', 'internal error'), req.id);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new AppError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`), req.id),
  );

  await app.register(swagger.default, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'OpenRamp API',
        version: deps.version,
        description:
          'OpenRamp implements the Coinut Partner Ramp API (offramp side) plus extensions. Every partner route is signed: ' +
          'X-API-Key, X-Timestamp (unix s), X-Nonce, X-Signature = hex HMAC-SHA256(apiSecret, METHOD\\nHOST\\nPATH\\nQUERY\\nBODY_SHA256_HEX\\nTIMESTAMP\\nNONCE).',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          signature: { type: 'apiKey', in: 'header', name: 'X-Signature' },
          operator: { type: 'http', scheme: 'bearer' },
        },
      },
    },
  });
  await app.register(swaggerUi.default, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { config: { auth: 'none' }, schema: { hide: true } }, async () => app.swagger());

  // Each plugin gets only the services it uses: no route reaches the database directly.
  const s = deps.services;
  const { mode, version, metrics } = deps;
  await app.register(frontDoorRoutes, {
    mode,
    version,
    instanceId: deps.instanceId,
    consolePath: () => (app.hasRoute({ method: 'GET', url: '/console' }) ? '/console' : null),
  });
  await app.register(commonRoutes, {
    partners: s.partners,
    balances: s.balances,
    pingDatabase: () => ping(s.db),
    mode,
    version,
    metrics,
  });
  await app.register(customerRoutes, { customers: s.customers });
  await app.register(bankAccountRoutes, { bankAccounts: s.bankAccounts });
  await app.register(depositAddressRoutes, { depositAddresses: s.depositAddresses });
  await app.register(flowRoutes, { flows: s.flows, tradePreview: s.tradePreview });
  await app.register(depositRoutes, {
    deposits: s.deposits,
    customers: s.customers,
    sandboxTransfers: s.sandboxTransfers,
    sandboxChain: s.sandboxChain,
    sandboxNetworks: s.sandboxNetworks,
    sandboxClock: s.sandboxClock,
  });
  await app.register(tradeRoutes, { trades: s.trades });
  await app.register(payoutRoutes, { payouts: s.payouts });
  await app.register(sandboxRoutes, { customers: s.customers });
  await app.register(operatorRoutes, {
    partners: s.partners,
    payouts: s.payouts,
    payoutBatches: s.payoutBatches,
    ledger: s.ledger,
    deposits: s.deposits,
    customers: s.customers,
    fees: s.fees,
  });
  await app.register(webhookRoutes, { webhooks: s.webhooks });
  return app;
}
