// The service's view of the replicated schema log (main/crr/schema-log.ts): what waits here for the
// user's confirmation or is in conflict, the latest changes applied, and the per-database setting
// "apply schema changes from peers automatically". A drop waiting here says how many values the
// column holds: they stay readable after the drop (the engine keeps the dropped column's versions).
import type Database from 'better-sqlite3';
import type { SchemaChangeInfo, SchemaChangesView } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import { bytesToHex, hexToBytes } from '../../shared/values.ts';
import { quoteId } from '../crr/table-info.ts';
import type { CrrEngine, SchemaRecord } from '../crr/types.ts';

const RECENT = 20;

export class SchemaChanges {
  constructor(
    private readonly db: Database.Database,
    private readonly engine: CrrEngine,
    /** site hex → the peer's name, when known */
    private readonly names: (siteHex: string) => string | null,
  ) {}

  private info(r: SchemaRecord): SchemaChangeInfo {
    const site = bytesToHex(r.site_id);
    const local = site === bytesToHex(this.engine.siteId);
    return {
      id: `${site}:${r.clock}`,
      kind: r.kind,
      table: r.table,
      summary: r.summary,
      state: r.state,
      reason: r.reason,
      destructive: r.destructive,
      by: local ? 'You' : (this.names(site) ?? `peer ${site.slice(0, 6)}`),
      writtenAt: r.written_at,
      values: r.kind === 'drop-column' && r.state === 'confirm' ? this.values(r.table, r.column!) : null,
    };
  }

  /** how many non-NULL values the column holds here */
  private values(table: string, column: string): number | null {
    try {
      return this.db.prepare(`SELECT count(${quoteId(column)}) FROM ${quoteId(table)}`).pluck().get() as number;
    } catch {
      return null;
    }
  }

  view(): SchemaChangesView {
    const log = this.engine.schemaLog;
    const all = log.list();
    return {
      version: log.summary().version,
      autoApply: log.autoApply(),
      waiting: all.filter((r) => r.state !== 'applied').map((r) => this.info(r)),
      recent: all.filter((r) => r.state === 'applied').slice(-RECENT).reverse().map((r) => this.info(r)),
    };
  }

  confirm(id: unknown): SchemaChangesView {
    const m = typeof id === 'string' ? /^([0-9a-f]{32}):(\d+)$/i.exec(id) : null;
    if (!m) throw new ApiError('invalid-argument', 'Which schema change?');
    try {
      this.engine.schemaLog.confirm(hexToBytes(m[1]), Number(m[2]));
    } catch (err) {
      throw new ApiError('sql-error', `${(err as Error).message.replace(/\.$/, '')}. Nothing was changed.`);
    }
    return this.view();
  }

  setAutoApply(on: unknown): SchemaChangesView {
    if (typeof on !== 'boolean') throw new ApiError('invalid-argument', 'on must be true or false.');
    this.engine.schemaLog.setAutoApply(on);
    return this.view();
  }
}
