import pino, { type Logger } from 'pino';

/** JSON logs with secrets and personal data redacted wherever they might appear. */
export const REDACT_PATHS = [
  'req.headers["x-signature"]',
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'headers["x-signature"]',
  'headers.authorization',
  '*.apiSecret',
  '*.webhookSecret',
  '*.secret',
  '*.email',
  // Personal names by their real paths: a bare '*.name' would also hide `err.name` (the
  // error's class), which every error log needs.
  'customer.name',
  '*.customer.name',
  'customers[*].name',
  'body.name',
  'req.body.name',
  'payload.name',
  'data.name',
  'payload.data.name',
  'beneficiary.name',
  'debtor.name',
  'creditor.name',
  '*.realName',
  '*.accountNo',
  '*.iban',
  '*.accountName',
];

/** Personal data (emails, names) can sit in query strings: log parameter names only. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const keys = new URLSearchParams(url.slice(q + 1)).keys();
  return `${url.slice(0, q)}?${[...keys].map((k) => `${k}=…`).join('&')}`;
}

interface LoggedRequest {
  id?: string;
  method?: string;
  url?: string;
  ip?: string;
}

export function createLogger(opts: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: opts.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'openramp' },
      // Fastify logs requests through these: never headers or bodies, and no query values.
      serializers: {
        req: (req: LoggedRequest) => ({
          id: req.id,
          method: req.method,
          url: req.url === undefined ? undefined : redactUrl(req.url),
          remoteAddress: req.ip,
        }),
      },
    },
    opts.destination,
  );
}
