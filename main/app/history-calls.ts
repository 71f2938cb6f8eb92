// The service's cell-history, conflict and merge-policy calls: engine values to API shapes,
// opaque conflict ids, and writer names for site ids.
import type { ActivityEntry, CellRef, CellVersion, Conflict, CounterContribution, MergePolicy } from '../../shared/api.ts';
import { textEdits } from '../../shared/text-edits.ts';
import { ApiError } from '../../shared/errors.ts';
import { bytesToHex, fromWire, hexToBytes, toWire, type WireValue } from '../../shared/values.ts';
import type { CellVersion as EngineVersion, Conflict as EngineConflict, CrrEngine } from '../crr/types.ts';
import { MERGE_POLICIES } from '../crr/types.ts';
import { groupActivity, type RunSizes } from './bulk-activity.ts';

/** site hex → the writer's name, when known */
export type SiteNames = (siteHex: string) => string | null;

interface ConflictId {
  t: string;
  k: WireValue[];
  c: string;
  l: number;
  ps: string | null;
  pv: number;
}

export class HistoryCalls {
  constructor(
    private readonly engine: CrrEngine,
    private readonly names: SiteNames,
  ) {}

  private version(v: EngineVersion): CellVersion {
    const site = bytesToHex(v.site_id);
    const local = site === bytesToHex(this.engine.siteId);
    return {
      value: toWire(v.val),
      site,
      peerName: local ? 'You' : (this.names(site) ?? `peer ${site.slice(0, 6)}`),
      local,
      colVersion: v.col_version,
      cl: v.cl,
      parentColVersion: v.parent ? v.parent.col_version : null,
      writtenAt: v.written_at,
      seenAt: v.seen_at,
      won: v.won,
      resolvesConflict: v.resolves !== null,
    };
  }

  private conflict(c: EngineConflict): Conflict {
    const id: ConflictId = {
      t: c.table,
      k: c.pk.map(toWire),
      c: c.cid,
      l: c.cl,
      ps: c.parent.site_id ? bytesToHex(c.parent.site_id) : null,
      pv: c.parent.col_version,
    };
    return {
      id: Buffer.from(JSON.stringify(id)).toString('base64url'),
      table: c.table,
      key: c.pk.map(toWire),
      column: c.cid,
      policy: c.policy,
      resolved: c.resolved,
      seenAt: c.seen_at,
      versions: c.versions.map((v) => this.version(v)),
    };
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError('invalid-argument', (err as Error).message);
    }
  }

  cellHistory(p: CellRef): CellVersion[] {
    return this.guard(() => {
      const versions = this.engine.history.cell(p.table, p.key.map(fromWire), p.column);
      const out = versions.map((v) => this.version(v));
      if (this.policyOf(p.table, p.column) === 'text') {
        // newest first: each version's edits against the one before it in the same life
        versions.forEach((v, i) => {
          const prev = versions.slice(i + 1).find((w) => w.cl === v.cl && w.col_version < v.col_version);
          const text = (x: unknown) => (typeof x === 'string' ? x : '');
          out[i].edits = textEdits(prev ? text(prev.val) : '', text(v.val));
        });
      }
      return out;
    });
  }

  policyOf(table: string, column: string): MergePolicy {
    return this.engine.history.policies().find((e) => e.table === table && e.cid === column)?.policy ?? 'lww';
  }

  counterContributions(p: CellRef): CounterContribution[] {
    return this.guard(() =>
      this.engine.history.contributions(p.table, p.key.map(fromWire), p.column).map((c) => {
        const site = bytesToHex(c.site_id);
        const local = site === bytesToHex(this.engine.siteId);
        return { site, local, peerName: local ? 'You' : (this.names(site) ?? `peer ${site.slice(0, 6)}`), writes: c.writes, total: toWire(c.total) };
      }),
    );
  }

  listConflicts(p: { table?: string; includeResolved?: boolean }): Conflict[] {
    return this.guard(() =>
      this.engine.history.conflicts({ table: p.table, unresolvedOnly: !p.includeResolved, limit: 500 }).map((c) => this.conflict(c)),
    );
  }

  unresolved(): number {
    return this.engine.history.unresolvedCount();
  }

  resolveConflict(p: { id: string; keepSite: string }): void {
    let id: ConflictId;
    try {
      id = JSON.parse(Buffer.from(String(p.id), 'base64url').toString('utf8')) as ConflictId;
      if (typeof id.t !== 'string' || !Array.isArray(id.k) || typeof id.c !== 'string' || !Number.isSafeInteger(id.l) || !Number.isSafeInteger(id.pv)) throw new Error();
    } catch {
      throw new ApiError('invalid-argument', 'That conflict id is malformed.');
    }
    if (typeof p.keepSite !== 'string' || !/^[0-9a-f]{32}$/i.test(p.keepSite)) throw new ApiError('invalid-argument', 'Which version to keep is missing.');
    this.guard(() =>
      this.engine.history.resolve(
        { table: id.t, pk: id.k.map(fromWire), cid: id.c, cl: id.l, parent: { site_id: id.ps ? hexToBytes(id.ps) : null, col_version: id.pv } },
        hexToBytes(p.keepSite),
      ),
    );
  }

  mergePolicies(p: { table: string }): Record<string, MergePolicy> {
    const out: Record<string, MergePolicy> = {};
    for (const e of this.engine.history.policies()) if (e.table === p.table) out[e.cid] = e.policy;
    return out;
  }

  setMergePolicy(p: { table: string; column: string; policy: MergePolicy }): void {
    if (!MERGE_POLICIES.includes(p.policy)) throw new ApiError('invalid-argument', `Unknown merge policy ${JSON.stringify(p.policy)}.`);
    this.guard(() => this.engine.history.setPolicy(p.table, p.column, p.policy));
  }

  private readonly runSizes: RunSizes = new Map();

  /** The table's newest versions, newest first; many written at once (enabling collaboration) are one entry. */
  tableActivity(p: { table: string; limit?: number }): ActivityEntry[] {
    const limit = Math.min(Math.max(1, Number(p.limit ?? 50) || 50), 500);
    return this.guard(() =>
      groupActivity(
        this.engine,
        p.table,
        (n) => this.engine.history.activity(p.table, n).map((v) => ({ key: v.pk.map(toWire), column: v.cid, version: this.version(v), dbVersion: v.db_version })),
        limit,
        this.runSizes,
      ),
    );
  }
}
