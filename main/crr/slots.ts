// Stable column slots. The clock tables name a column by a small integer that stays with it
// through renames, so a renamed column keeps its versions and a version row stores one byte
// instead of the column's name. crr_tables.columns holds, per CRR table, the JSON
// {"pks": [...], "cols": [[name, slot, since], ...], "next": n, "ix": {name: sql}}: `since` is the
// db_version at which the column became versioned (implied first versions of older rows do not
// cover it); `ix` the table's own indexes as last seen (the schema log notices them change;
// absent in older files until first seen). Slots are never reused: a dropped column's slot
// retires with its versions (dropped-columns.ts).
import type { TableInfo } from './table-info.ts';

export interface TableShape {
  pks: string[];
  cols: [name: string, slot: number, since: number][];
  next: number;
  ix?: Record<string, string>;
}

/** The stored shape; format 1 stored [...pks, ...columns] by position. */
export function parseShape(json: string, pkCount: number): TableShape {
  const v = JSON.parse(json) as unknown;
  if (Array.isArray(v)) {
    const names = v as string[];
    const cols = names.slice(pkCount).map((n, i): [string, number, number] => [n, i, 0]);
    return { pks: names.slice(0, pkCount), cols, next: cols.length };
  }
  return v as TableShape;
}

export const shapeJson = (s: TableShape) => JSON.stringify(s);

/** A fresh table: slots by position, all versioned from the start. */
export function initialShape(info: TableInfo): TableShape {
  return { pks: [...info.pks], cols: info.columns.map((c, i) => [c, i, 0]), next: info.columns.length };
}

/** The table's schema with the slots of a shape whose columns it matches. */
export function withSlots(info: TableInfo, shape: TableShape): TableInfo {
  const byName = new Map(shape.cols.map(([n, s, since]) => [n, [s, since] as const]));
  return {
    ...info,
    slots: info.columns.map((c) => byName.get(c)![0]),
    since: info.columns.map((c) => byName.get(c)![1]),
  };
}

export interface ShapeChange {
  shape: TableShape;
  /** slots whose column was renamed: [slot, old name, new name] */
  renamed: [number, string, string][];
  dropped: number[];
  added: number[];
}

/**
 * The shape after an ALTER: same name keeps its slot; a column renamed in place (same number of
 * columns, a new name where an old one disappeared) keeps its slot; dropped slots retire; new
 * columns get new slots, versioned from `version` on.
 */
export function reconcileShape(stored: TableShape, info: TableInfo, version: number): ShapeChange {
  const before = stored.cols.map((c) => c[0]);
  const now = new Set(info.columns);
  const renamedInPlace = before.length === info.columns.length;
  const kept = new Map<string, [number, number]>();
  const renamed: [number, string, string][] = [];
  const dropped: number[] = [];
  stored.cols.forEach(([name, slot, since], i) => {
    if (now.has(name)) kept.set(name, [slot, since]);
    else if (renamedInPlace && !before.includes(info.columns[i])) {
      kept.set(info.columns[i], [slot, since]);
      renamed.push([slot, name, info.columns[i]]);
    } else dropped.push(slot);
  });
  let next = stored.next;
  const added: number[] = [];
  const cols = info.columns.map((name): [string, number, number] => {
    const k = kept.get(name);
    if (k) return [name, k[0], k[1]];
    added.push(next);
    return [name, next++, version];
  });
  return { shape: { pks: [...info.pks], cols, next, ix: stored.ix }, renamed, dropped, added };
}
