import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResolvedKey } from '../domain/partners/partners.ts';
import type { PendingAuth } from './auth.ts';
import { AppError } from '../infra/lib/errors.ts';
import { toPage, type Page, type PageResult } from '../infra/lib/pagination.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated partner's key (set by the auth hook on partner routes). */
    partnerKey?: ResolvedKey;
    rawBody?: Buffer;
    /** A body problem found while parsing, reported after authentication. */
    bodyError?: string;
    uploadedFiles?: { field: string; filename: string; bytes: number }[];
    /** Partner headers checked before the body (onRequest); the signature is verified once the body is read. */
    pendingAuth?: PendingAuth | undefined;
    /** SHA-256 hex of a multipart body's raw bytes, settled when the body has been read in full. */
    multipartSha256?: Promise<string>;
  }
  interface FastifyContextConfig {
    /** Who may call the route: a signed partner request (default), the operator token, or anyone. */
    auth?: 'partner' | 'operator' | 'none';
    sandboxOnly?: boolean;
  }
}

/** The contract's success envelope; `topLevel` adds fields beside `data` (docs/api-contract.md). */
export function ok<T>(data: T, topLevel: Record<string, unknown> = {}) {
  return { status: 'SUCCESS' as const, data, ...topLevel };
}

export function pageOf<R, T>(result: PageResult<R>, map: (r: R) => T) {
  return ok({ list: result.list.map(map), total: result.total, pageNum: result.pageNum, pageSize: result.pageSize });
}

export function partnerId(req: FastifyRequest): string {
  if (!req.partnerKey) throw new AppError('UNAUTHORISED', 'authentication required');
  return req.partnerKey.partnerId;
}

export function pageFrom(q: { pageNum?: number; pageSize?: number }): Page {
  return toPage(q);
}

/**
 * The contract's error envelope is exactly {status, message}; the stable error code (docs/errors.md)
 * travels beside it in the X-Error-Code header, so clients can tell e.g. a replayed nonce from a
 * wrong signature without parsing messages.
 */
export function sendError(reply: FastifyReply, err: AppError, requestId: string) {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  reply.header('x-error-code', err.code);
  const message = err.internal ? `internal error (request id ${requestId})` : err.message;
  return reply.code(err.httpStatus).send({ status: err.contractStatus, message });
}
