// Which rows a virtual grid needs: the visible range plus overscan, fetched in fixed pages so a
// scroll fetches only what is new, and a 1M-row table never needs a count before painting.

export const PAGE_ROWS = 100;

export interface RowRange {
  first: number;
  /** exclusive */
  end: number;
}

export function visibleRange(scrollTop: number, viewportHeight: number, rowHeight: number, total: number, overscan = 10): RowRange {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const end = Math.min(total, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan);
  return { first, end: Math.max(first, end) };
}

/** What the grid knows of a view's row count: exact (from a count, or a page that ended) or a guess. */
export interface RowTotal {
  total: number;
  exact: boolean;
}

/**
 * The row count after page `page` came back with `rows` rows. A page that ends the view fixes the
 * count, except an empty one past the end (read from a stale scroll position, say): that only says
 * the view ends at or before it, so a guess shrinks to it and an exact count stands.
 */
export function totalAfterPage(known: RowTotal, page: number, rows: number, atEnd: boolean): RowTotal {
  const end = page * PAGE_ROWS + rows;
  if (atEnd && (rows > 0 || page === 0)) return { total: end, exact: true };
  if (atEnd) return known.total > end ? { total: end, exact: false } : known;
  return known.exact && known.total >= end ? known : { total: Math.max(known.total, end), exact: known.exact && known.total >= end };
}

/** Pages (of PAGE_ROWS) covering a range. */
export function pagesFor(range: RowRange): number[] {
  if (range.end <= range.first) return [];
  const out: number[] = [];
  for (let p = Math.floor(range.first / PAGE_ROWS); p * PAGE_ROWS < range.end; p++) out.push(p);
  return out;
}

/**
 * Fetched pages of rows, with the pages far from the view dropped to bound memory. A cache made
 * by `refresh()` (the same view, read again after a change) shows the old rows of a page until
 * that page is read anew: the grid repaints in place instead of blanking.
 */
export class PageCache<T> {
  private readonly pages = new Map<number, T[]>();
  constructor(
    private readonly maxPages = 50,
    private readonly previous: PageCache<T> | null = null,
  ) {}

  /** whether the page was read into this cache (rows standing in from before do not count) */
  has(page: number): boolean {
    return this.pages.has(page);
  }

  put(page: number, rows: T[], near: number): void {
    this.pages.set(page, rows);
    if (this.pages.size > this.maxPages) {
      const far = [...this.pages.keys()].sort((a, b) => Math.abs(b - near) - Math.abs(a - near));
      for (const p of far.slice(0, this.pages.size - this.maxPages)) this.pages.delete(p);
    }
  }

  row(index: number): T | undefined {
    const page = Math.floor(index / PAGE_ROWS);
    const rows = this.pages.get(page);
    return rows ? rows[index % PAGE_ROWS] : this.previous?.row(index);
  }

  /** A new cache for the same view: this one's rows stand in until their pages are read again. */
  refresh(): PageCache<T> {
    const old = new PageCache<T>(this.maxPages);
    for (const [p, rows] of this.previous?.pages ?? []) old.pages.set(p, rows);
    for (const [p, rows] of this.pages) old.pages.set(p, rows);
    return new PageCache<T>(this.maxPages, old);
  }

  clear(): void {
    this.pages.clear();
  }
}
