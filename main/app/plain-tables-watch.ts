// Live updates for what the CRR engine does not report: tables that are not CRRs, and every table
// of a file open read-only. The engine announces CRR commits (local, merged, other programs');
// this announces this app's own writes to a plain table, and other programs' commits, noticed by
// PRAGMA data_version (which moves only when another connection commits).
import type Database from 'better-sqlite3';
import type { ApiEvents } from '../../shared/api.ts';
import { userTableNames } from './table-queries.ts';

type RowsChanged = ApiEvents['rowsChanged'];

export class PlainTablesWatch {
  private readonly dataVersion: Database.Statement;
  private last: number;
  private readonly timer: ReturnType<typeof setInterval> | null;

  constructor(
    private readonly db: Database.Database,
    private readonly isCrr: (table: string) => boolean,
    private readonly emit: (e: RowsChanged) => void,
    pollMs = 250,
  ) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck().safeIntegers(false);
    this.last = this.dataVersion.get() as number;
    this.timer = pollMs > 0 ? setInterval(() => this.poll(), pollMs) : null;
    this.timer?.unref();
  }

  /** After this app committed a write to `table`. */
  wrote(table: string): void {
    if (!this.isCrr(table)) this.emit({ tables: [table], origin: 'local', site: null, cells: null });
  }

  /** Another program committed: every plain table may have changed (data_version does not say which). */
  poll(): void {
    if (!this.db.open || this.db.inTransaction) return;
    const dv = this.dataVersion.get() as number;
    if (dv === this.last) return;
    this.last = dv;
    const tables = userTableNames(this.db).filter((t) => !this.isCrr(t));
    if (tables.length) this.emit({ tables, origin: 'outside', site: null, cells: null });
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
