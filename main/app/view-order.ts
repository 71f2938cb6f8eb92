// Sorted and filtered views read in windows whose time does not depend on where they are: the
// keys of a view's rows are read once, in its order, into memory (8 bytes a row for rowid tables),
// so a window is a slice of keys whose rows are fetched by key, and the count and a row's position
// are lookups. With LIMIT/OFFSET instead, every window of a sort on an unindexed column sorts the
// whole table again, and takes longer the further down it is. An order is read again on its next
// use after any write to the file (this connection's or another program's), so it never shows
// stale positions. Only reads: no temp tables, no write lock, nothing the CRR engine would track.
import type Database from 'better-sqlite3';
import type { SqlValue } from '../../shared/values.ts';
import { quoteId } from '../crr/table-info.ts';

/** How to number a view's rows. */
export interface OrderSpec {
  /** identifies the view (table, columns, filters, sort): an order is reused only for the same view */
  signature: string;
  /** `SELECT <key expressions> FROM … WHERE … ORDER BY …` of the view */
  sql: string;
  params: unknown[];
  /** set when the keys are one integer rowid each of this table (stored compactly), not primary-key tuples */
  rowidOf?: string;
}

/** A view's row keys in order. */
export class ViewOrder {
  constructor(
    /** rowids (numbers while they fit in a double, else bigints), or key tuples */
    private readonly keys: Float64Array | bigint[] | SqlValue[][],
    readonly rowid: boolean,
  ) {}

  get rows(): number {
    return this.keys.length;
  }

  /** keys of positions [from, to), each as the values to bind */
  slice(from: number, to: number): unknown[][] {
    const out: unknown[][] = [];
    for (let i = from; i < Math.min(to, this.keys.length); i++) {
      const k = this.keys[i];
      out.push(Array.isArray(k) ? k.map((v) => (v instanceof Uint8Array ? Buffer.from(v) : v)) : [k]);
    }
    return out;
  }

  /** position of a row by its key (as slice gives it), or -1 */
  indexOf(key: unknown[]): number {
    if (this.keys instanceof Float64Array) return typeof key[0] === 'bigint' || typeof key[0] === 'number' ? this.keys.indexOf(Number(key[0])) : -1;
    const wanted = keyText(key);
    return (this.keys as unknown[]).findIndex((k) => keyText(Array.isArray(k) ? k : [k]) === wanted);
  }
}

/** A key as text for matching rows fetched by key to their positions (classes kept apart). */
export function keyText(key: unknown[]): string {
  return key
    .map((v) => (typeof v === 'bigint' || typeof v === 'number' ? `n${v}` : v instanceof Uint8Array ? `b${Buffer.from(v).toString('hex')}` : v === null ? 'z' : `t${String(v)}`))
    .join('\u0000');
}

const KEEP = 3;

export class ViewOrders {
  /** most recently used first */
  private orders: { order: ViewOrder; signature: string; stamp: string }[] = [];
  private readonly dataVersion: Database.Statement;
  private readonly changes: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck().safeIntegers(false);
    this.changes = db.prepare('SELECT total_changes()').pluck().safeIntegers(false);
  }

  /** moves when another connection commits (data_version) or this one writes (total_changes) */
  private stamp(): string {
    return `${this.dataVersion.get() as number}:${this.changes.get() as number}`;
  }

  /** The order of a view, read now if it is new or the file changed since. */
  order(spec: OrderSpec): ViewOrder {
    const stamp = this.stamp();
    const i = this.orders.findIndex((o) => o.signature === spec.signature);
    const found = i >= 0 ? this.orders.splice(i, 1)[0] : undefined;
    const order = found && found.stamp === stamp ? found.order : this.read(spec);
    this.orders.unshift({ order, signature: spec.signature, stamp });
    this.orders.length = Math.min(this.orders.length, KEEP);
    return order;
  }

  private read(spec: OrderSpec): ViewOrder {
    const stmt = this.db.prepare(spec.sql);
    if (!spec.rowidOf) {
      const rows = stmt.raw().safeIntegers(true).all(...spec.params) as unknown[][];
      return new ViewOrder(rows.map((r) => r.map((v) => (v instanceof Uint8Array ? new Uint8Array(v) : (v as SqlValue)))), false);
    }
    // rowids as doubles when every one of them is exact as a double (nearly always), else as bigints
    const fits = this.db
      .prepare(`SELECT coalesce(min(rowid) >= ${Number.MIN_SAFE_INTEGER} AND max(rowid) <= ${Number.MAX_SAFE_INTEGER}, 1) FROM ${quoteId(spec.rowidOf)}`)
      .pluck()
      .get();
    if (fits) return new ViewOrder(Float64Array.from(stmt.pluck().safeIntegers(false).all(...spec.params) as number[]), true);
    return new ViewOrder(stmt.pluck().safeIntegers(true).all(...spec.params) as bigint[], true);
  }
}
