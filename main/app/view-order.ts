// Sorted and filtered views read in windows whose time does not depend on where they are: the
// view's row keys are numbered once, in its order, into a temp table, so a window is a range of
// positions joined back to the table, and the count and a row's position are lookups. With
// LIMIT/OFFSET instead, every window of a sort on an unindexed column sorts the whole table again
// (seconds on a million rows, more the further down). An order is rebuilt on its next read after
// any write to the file (this connection's or another program's): it never shows stale positions.
import type Database from 'better-sqlite3';
import { quoteId } from '../crr/table-info.ts';

/** A view's rows numbered in order: temp table `name` (pos INTEGER PRIMARY KEY, k0, k1, …). */
export interface ViewOrder {
  name: string;
  rows: number;
}

/** How to number a view's rows: its key expressions (k0, k1, … in order) and the rest of its SELECT. */
export interface OrderSpec {
  /** identifies the view (table, filters, sort): an order is reused only for the same view */
  signature: string;
  keys: string[];
  /** `FROM … WHERE … ORDER BY …` of the view */
  rest: string;
  params: unknown[];
}

const KEEP = 3;

export class ViewOrders {
  /** most recently used first */
  private orders: (ViewOrder & { signature: string; stamp: string })[] = [];
  private made = 0;
  /** rows this object wrote (its temp tables), not counted as writes to the file */
  private own = 0;
  private readonly dataVersion: Database.Statement;
  private readonly changes: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck().safeIntegers(false);
    this.changes = db.prepare('SELECT total_changes()').pluck().safeIntegers(false);
  }

  /** moves when another connection commits (data_version) or this one writes (total_changes, less our own) */
  private stamp(): string {
    return `${this.dataVersion.get() as number}:${(this.changes.get() as number) - this.own}`;
  }

  /** Runs our own writes without them counting as changes to the file. */
  private ours<T>(fn: () => T): T {
    const before = this.changes.get() as number;
    try {
      return fn();
    } finally {
      this.own += (this.changes.get() as number) - before;
    }
  }

  /** The numbered order of a view, built now if it is missing or the file changed since. */
  order(spec: OrderSpec): ViewOrder {
    const stamp = this.stamp();
    const i = this.orders.findIndex((o) => o.signature === spec.signature);
    const found = i >= 0 ? this.orders.splice(i, 1)[0] : undefined;
    if (found && found.stamp === stamp) {
      this.orders.unshift(found);
      return found;
    }
    const name = found?.name ?? `crr_desk_view_${++this.made}`;
    const cols = spec.keys.map((_, k) => `k${k}`);
    const rows = this.ours(() => {
      this.db.exec(`DROP TABLE IF EXISTS temp.${quoteId(name)}; CREATE TEMP TABLE ${quoteId(name)} (pos INTEGER PRIMARY KEY, ${cols.join(', ')})`);
      return this.db
        .prepare(`INSERT INTO temp.${quoteId(name)} (${cols.join(', ')}) SELECT ${spec.keys.join(', ')} ${spec.rest}`)
        .run(...spec.params).changes;
    });
    const order = { name, rows, signature: spec.signature, stamp };
    this.orders.unshift(order);
    for (const old of this.orders.splice(KEEP)) this.ours(() => this.db.exec(`DROP TABLE IF EXISTS temp.${quoteId(old.name)}`));
    return order;
  }
}
