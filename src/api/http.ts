import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ResolvedKey } from '../domain/partners/partners.ts';
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

export function sendError(reply: FastifyReply, err: AppError, requestId: string) {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  const message = err.internal ? `internal error (request id ${requestId})` : err.message;
  return reply.code(err.httpStatus).send({ status: err.contractStatus, message });
}
