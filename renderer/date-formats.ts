// Date and time values as the pickers edit them, in the format and storage class they are stored
// in: the format is read from the cell's current value ('2026-12-01', '2026-12-01 13:45:00',
// ISO with T and Z or an offset, 'HH:MM:SS', unix seconds or milliseconds, julian day numbers) and
// a picked value is written back in that same format. Text keeps its wall-clock fields and zone
// suffix untouched (no time-zone arithmetic); numbers are instants, shown and picked in UTC.
import type { WireValue } from '../shared/values.ts';

/** What a date/time picker edits in a column of this declared type, or null for other columns. */
export function dateColumn(declared: string): 'date' | 'datetime' | 'time' | null {
  const t = declared.toUpperCase();
  if (/DATETIME|TIMESTAMP/.test(t)) return 'datetime';
  if (t.includes('DATE')) return 'date';
  if (t.includes('TIME')) return 'time';
  return null;
}

export type DateFormat =
  /** YYYY-MM-DD, optionally with a time (after ' ' or 'T', seconds and 1-3 fraction digits optional) and a zone suffix */
  | { kind: 'text'; time: null | { sep: ' ' | 'T'; seconds: boolean; fraction: number }; zone: string }
  /** HH:MM, HH:MM:SS or HH:MM:SS.fff */
  | { kind: 'time'; seconds: boolean; fraction: number }
  | { kind: 'unix'; unit: 's' | 'ms'; storage: 'integer' | 'real' }
  /** days since noon UTC, 4714-11-24 BC (SQLite's julianday()), as REAL */
  | { kind: 'julian' };

const TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:([ T])(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;
const JULIAN_UNIX_EPOCH = 2440587.5;
const DAY_MS = 86_400_000;
/** julian days of 0001-01-01 and 9999-12-31: REALs in between are julian day numbers */
const JULIAN_RANGE = [1721425.5, 5373484.5];

/** ms since the epoch of a UTC wall time (Date.UTC would take years 0-99 for 1900-1999) */
function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}
const validDate = (y: number, m: number, d: number) => {
  const t = new Date(utc(y, m, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
};
/** instants the pickers show: years 1 to 9999 */
const PICKABLE = [utc(1, 1, 1), utc(9999, 12, 31, 23, 59, 59, 999)];
const validTime = (h: number, mi: number, s: number) => h < 24 && mi < 60 && s < 60;

/**
 * The format of a cell's value, or null when the picker cannot edit it without changing it (text
 * in another format, a number in a text column, more than millisecond precision, …). An empty
 * cell (NULL or '') takes the declared type's usual text format.
 */
export function detectFormat(value: WireValue, declared: string): DateFormat | null {
  const column = dateColumn(declared);
  if (!column) return null;
  if (value === null || value === '') {
    if (column === 'time') return { kind: 'time', seconds: true, fraction: 0 };
    return { kind: 'text', time: column === 'date' ? null : { sep: ' ', seconds: true, fraction: 0 }, zone: '' };
  }
  if (typeof value === 'string') {
    const m = TEXT.exec(value);
    if (m) {
      if (!validDate(+m[1], +m[2], +m[3])) return null;
      if (!m[4]) return { kind: 'text', time: null, zone: '' };
      if (!validTime(+m[5], +m[6], +(m[7] ?? 0))) return null;
      return { kind: 'text', time: { sep: m[4] as ' ' | 'T', seconds: m[7] !== undefined, fraction: m[8]?.length ?? 0 }, zone: m[9] ?? '' };
    }
    const t = TIME.exec(value);
    if (t && validTime(+t[1], +t[2], +(t[3] ?? 0))) return { kind: 'time', seconds: t[3] !== undefined, fraction: t[4]?.length ?? 0 };
    return null;
  }
  let f: DateFormat | null = null;
  if ('i' in value) {
    if (Number.isSafeInteger(Number(value.i))) f = { kind: 'unix', unit: Math.abs(Number(value.i)) >= 1e11 ? 'ms' : 's', storage: 'integer' };
  } else if ('r' in value && typeof value.r === 'number') {
    f = value.r >= JULIAN_RANGE[0] && value.r <= JULIAN_RANGE[1] ? { kind: 'julian' } : { kind: 'unix', unit: 's', storage: 'real' };
  }
  if (!f) return null;
  const ms = instantOf(value, f);
  return ms >= PICKABLE[0] && ms <= PICKABLE[1] ? f : null;
}

export interface Picker {
  input: 'date' | 'datetime-local' | 'time';
  /** the input's value ('' for an empty cell) */
  value: string;
  /** seconds per step of the input: 60 (minutes), 1 (seconds) or fractions of a second */
  step: number;
  /** the zone the picked time is in, for its label ('' for text without a zone) */
  zone: string;
}

const fractionStep = (seconds: boolean, fraction: number) => (!seconds ? 60 : fraction ? 10 ** -fraction : 1);

/** ms since the epoch of a value stored as a number */
function instantOf(value: WireValue, f: DateFormat): number {
  const n = value !== null && typeof value === 'object' ? Number('i' in value ? value.i : 'r' in value ? value.r : NaN) : NaN;
  if (f.kind === 'julian') return Math.round((n - JULIAN_UNIX_EPOCH) * DAY_MS);
  return f.kind === 'unix' && f.unit === 'ms' ? n : Math.round(n * 1000);
}

/** The picker for a value of this format. */
export function toPicker(value: WireValue, f: DateFormat): Picker {
  const empty = value === null || value === '';
  if (f.kind === 'time') return { input: 'time', value: empty ? '' : String(value), step: fractionStep(f.seconds, f.fraction), zone: '' };
  if (f.kind === 'text') {
    const zone = f.zone === 'Z' ? 'UTC' : f.zone ? `UTC${f.zone}` : '';
    if (!f.time) return { input: 'date', value: empty ? '' : String(value), step: 1, zone };
    const m = empty ? null : TEXT.exec(String(value))!;
    const local = m ? `${m[1]}-${m[2]}-${m[3]}T${m[5]}:${m[6]}${m[7] !== undefined ? `:${m[7]}` : ''}${m[8] ? `.${m[8]}` : ''}` : '';
    return { input: 'datetime-local', value: local, step: fractionStep(f.time.seconds, f.time.fraction), zone };
  }
  const step = f.kind === 'unix' && f.unit === 's' && f.storage === 'integer' ? 1 : 0.001;
  const iso = new Date(instantOf(value, f)).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  return { input: 'datetime-local', value: empty ? '' : iso.slice(0, step === 1 ? 19 : 23), step, zone: 'UTC' };
}

/** The fields of a picker's value (the input may drop :00 seconds and trailing zeros), or null. */
function fields(picked: string, input: Picker['input']) {
  const m =
    input === 'time'
      ? /^()()()(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(picked)
      : input === 'date'
        ? /^(\d{4,6})-(\d{2})-(\d{2})()()()()$/.exec(picked)
        : /^(\d{4,6})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(picked);
  if (!m) return null;
  return { date: `${m[1]}-${m[2]}-${m[3]}`, y: +m[1], mo: +m[2], d: +m[3], h: m[4], mi: m[5], s: m[6] ?? '00', ms: (m[7] ?? '').padEnd(3, '0') };
}

/**
 * The value a picked input value stores, in the format and storage class of `f`; undefined when
 * the input is empty or not a value of its kind (nothing to write).
 */
export function fromPicker(picked: string, input: Picker['input'], f: DateFormat): WireValue | undefined {
  const p = fields(picked, input);
  if (!p) return undefined;
  if (f.kind === 'time') return `${p.h}:${p.mi}${f.seconds ? `:${p.s}` : ''}${f.fraction ? `.${p.ms.slice(0, f.fraction)}` : ''}`;
  if (f.kind === 'text') {
    if (!f.time) return p.date;
    const { sep, seconds, fraction } = f.time;
    return `${p.date}${sep}${p.h ?? '00'}:${p.mi ?? '00'}${seconds ? `:${p.s}` : ''}${fraction ? `.${p.ms.slice(0, fraction)}` : ''}${f.zone}`;
  }
  const ms = utc(p.y, p.mo, p.d, +(p.h || 0), +(p.mi || 0), +p.s, +p.ms);
  if (!Number.isFinite(ms)) return undefined;
  if (f.kind === 'julian') return { r: ms / DAY_MS + JULIAN_UNIX_EPOCH };
  if (f.unit === 'ms') return { i: String(ms) };
  return f.storage === 'integer' ? { i: String(Math.floor(ms / 1000)) } : { r: ms / 1000 };
}

/** Two picker values that stand for the same moment (the input normalises what it is given). */
export function samePick(a: string, b: string, input: Picker['input']): boolean {
  const fa = fields(a, input);
  const fb = fields(b, input);
  if (!fa || !fb) return a === b;
  return fa.date === fb.date && fa.h === fb.h && fa.mi === fb.mi && fa.s === fb.s && fa.ms === fb.ms;
}

/** How a format stores its values, for the editor's label. */
export function describeFormat(f: DateFormat): string {
  if (f.kind === 'julian') return 'REAL julian day';
  if (f.kind === 'unix') return `${f.storage === 'integer' ? 'INTEGER' : 'REAL'} unix ${f.unit === 'ms' ? 'milliseconds' : 'seconds'}`;
  const frac = (n: number) => (n ? `.${'f'.repeat(n)}` : '');
  if (f.kind === 'time') return `TEXT HH:MM${f.seconds ? ':SS' : ''}${frac(f.fraction)}`;
  if (!f.time) return 'TEXT YYYY-MM-DD';
  return `TEXT YYYY-MM-DD${f.time.sep === 'T' ? 'T' : ' '}HH:MM${f.time.seconds ? ':SS' : ''}${frac(f.time.fraction)}${f.zone}`;
}

/** A stored number as the moment it stands for (for the value panel), or null when it is no date. */
export function instantText(value: WireValue, f: DateFormat | null): string | null {
  if (!f || (f.kind !== 'unix' && f.kind !== 'julian') || value === null) return null;
  const ms = instantOf(value, f);
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return `${new Date(ms).toISOString().replace('T', ' ').replace(/\.000Z$/, 'Z').replace(/Z$/, ' UTC')}`;
}
