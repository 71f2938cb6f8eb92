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

/** Pages (of PAGE_ROWS) covering a range. */
export function pagesFor(range: RowRange): number[] {
  if (range.end <= range.first) return [];
  const out: number[] = [];
  for (let p = Math.floor(range.first / PAGE_ROWS); p * PAGE_ROWS < range.end; p++) out.push(p);
  return out;
}

/** Fetched pages of rows, with the pages far from the view dropped to bound memory. */
export class PageCache<T> {
  private readonly pages = new Map<number, T[]>();
  constructor(private readonly maxPages = 50) {}

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
    return this.pages.get(Math.floor(index / PAGE_ROWS))?.[index % PAGE_ROWS];
  }

  clear(): void {
    this.pages.clear();
  }
}
