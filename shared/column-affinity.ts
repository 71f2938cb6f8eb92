// A column's affinity from its declared type (SQLite's rules, section 3.1 of "Datatypes In
// SQLite"), and which merge policies a column of that type can take: `counter` sums numbers
// (INTEGER, REAL or NUMERIC affinity), `text` merges characters (TEXT affinity). The engine
// checks it when a policy is set; the renderer offers only what fits.
export type Affinity = 'integer' | 'real' | 'numeric' | 'text' | 'blob';

export function affinity(declared: string): Affinity {
  const t = declared.toUpperCase();
  if (t.includes('INT')) return 'integer';
  if (/CHAR|CLOB|TEXT/.test(t)) return 'text';
  if (t.includes('BLOB') || t.trim() === '') return 'blob';
  if (/REAL|FLOA|DOUB/.test(t)) return 'real';
  return 'numeric';
}

/** Whether merge policy `policy` fits a column declared `declared` (lww and review fit every column). */
export function policyFits(policy: string, declared: string): boolean {
  const a = affinity(declared);
  if (policy === 'counter') return a === 'integer' || a === 'real' || a === 'numeric';
  if (policy === 'text') return a === 'text';
  return policy === 'lww' || policy === 'review';
}
