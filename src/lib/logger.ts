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
  '*.name',
  '*.realName',
  '*.accountNo',
  '*.iban',
  '*.accountName',
];

export function createLogger(opts: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino({ level: opts.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'openramp' } }, opts.destination);
}
