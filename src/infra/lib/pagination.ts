/** Contract pagination: `pageNum` 1-based (default 1), `pageSize` default 10, max 100. */
export interface Page {
  pageNum: number;
  pageSize: number;
  offset: number;
}

export const PAGE_SIZE_DEFAULT = 10;
export const PAGE_SIZE_MAX = 100;

export function toPage(q: { pageNum?: number; pageSize?: number }): Page {
  const pageNum = q.pageNum ?? 1;
  const pageSize = q.pageSize ?? PAGE_SIZE_DEFAULT;
  return { pageNum, pageSize, offset: (pageNum - 1) * pageSize };
}

export interface PageResult<T> {
  list: T[];
  total: number;
  pageNum: number;
  pageSize: number;
}

/** Every list's creation-time filter (inclusive bounds); the API checks from ≤ to. */
export interface CreatedRange {
  createdFrom?: Date | undefined;
  createdTo?: Date | undefined;
}
