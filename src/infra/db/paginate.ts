import type { SelectQueryBuilder } from 'kysely';
import type { DB } from './schema.ts';
import type { Page, PageResult } from '../lib/pagination.ts';

/**
 * One page of a filtered list, newest first (by created_at, then id for a stable order), with
 * the total count for the contract's `{list, total, pageNum, pageSize}`.
 */
export async function paginate<Row>(
  base: SelectQueryBuilder<DB, keyof DB, object>,
  page: Page,
  direction: 'asc' | 'desc' = 'desc',
): Promise<PageResult<Row>> {
  // Every listed table has created_at and id; the builder is generic over the table, so the
  // column names are given as raw references.
  const q = base as unknown as SelectQueryBuilder<Record<string, { created_at: Date; id: string }>, string, object>;
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('created_at', direction).orderBy('id', direction).limit(page.pageSize).offset(page.offset).execute(),
    q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { list: rows as unknown as Row[], total: Number(count.n), pageNum: page.pageNum, pageSize: page.pageSize };
}
