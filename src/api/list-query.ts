import { Type } from '@sinclair/typebox';
import { AppError } from '../infra/lib/errors.ts';
import type { CreatedRange } from '../infra/lib/pagination.ts';

/**
 * The query parameters every list shares beside pagination (docs/api-contract.md, "List
 * filters"): a creation-time range, ISO 8601 date-times with an offset, both bounds inclusive.
 */
export const CreatedRangeQuery = {
  createdFrom: Type.Optional(
    Type.String({
      format: 'date-time',
      maxLength: 64,
      description: 'Only items created at or after this time (ISO 8601, e.g. 2026-06-01T00:00:00Z)',
    }),
  ),
  createdTo: Type.Optional(
    Type.String({
      format: 'date-time',
      maxLength: 64,
      description: 'Only items created at or before this time (ISO 8601); not before createdFrom',
    }),
  ),
};

/** The range as dates; 422 naming the parameter when a bound is not a real time or from is after to. */
export function createdRangeOf(q: { createdFrom?: string | undefined; createdTo?: string | undefined }): CreatedRange {
  const out: CreatedRange = {};
  for (const k of ['createdFrom', 'createdTo'] as const) {
    const v = q[k];
    if (v === undefined) continue;
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new AppError('INVALID_PARAMETERS', `${k}: not a valid ISO 8601 date-time`);
    out[k] = d;
  }
  if (out.createdFrom && out.createdTo && out.createdFrom.getTime() > out.createdTo.getTime())
    throw new AppError('INVALID_PARAMETERS', 'createdFrom: must not be after createdTo');
  return out;
}
