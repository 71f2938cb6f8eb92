import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WireValue } from '../shared/values.ts';
import { dateColumn, describeFormat, detectFormat, fromPicker, instantText, samePick, toPicker } from './date-formats.ts';

/** what Chromium's inputs report for a value they were given: :00 seconds and trailing fraction zeros dropped */
const normalised = (v: string) => v.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '').replace(/(T\d{2}:\d{2}|^\d{2}:\d{2}):00$/, '$1');

const roundTrip = (value: WireValue, declared: string) => {
  const f = detectFormat(value, declared)!;
  const p = toPicker(value, f);
  return [fromPicker(p.value, p.input, f), fromPicker(normalised(p.value), p.input, f)];
};

describe('date formats: read from the value, written back the same way', () => {
  it('offers pickers for DATE, DATETIME, TIMESTAMP and TIME columns', () => {
    expect(['DATE', 'datetime', 'TIMESTAMP WITH TIME ZONE', 'TIME', 'TEXT', 'INTEGER', ''].map(dateColumn)).toEqual(['date', 'datetime', 'datetime', 'time', null, null, null]);
  });

  it('detects each stored format and its storage class', () => {
    expect(detectFormat('2026-12-01', 'DATE')).toEqual({ kind: 'text', time: null, zone: '' });
    expect(detectFormat('2026-12-01 13:45:00', 'DATETIME')).toEqual({ kind: 'text', time: { sep: ' ', seconds: true, fraction: 0 }, zone: '' });
    expect(detectFormat('2026-12-01T13:45:00.123Z', 'TIMESTAMP')).toEqual({ kind: 'text', time: { sep: 'T', seconds: true, fraction: 3 }, zone: 'Z' });
    expect(detectFormat('2026-12-01T13:45+02:00', 'TIMESTAMP')).toEqual({ kind: 'text', time: { sep: 'T', seconds: false, fraction: 0 }, zone: '+02:00' });
    expect(detectFormat({ i: '1764590700' }, 'TIMESTAMP')).toEqual({ kind: 'unix', unit: 's', storage: 'integer' });
    expect(detectFormat({ i: '1764590700123' }, 'TIMESTAMP')).toEqual({ kind: 'unix', unit: 'ms', storage: 'integer' });
    expect(detectFormat({ r: 1764590700.5 }, 'DATETIME')).toEqual({ kind: 'unix', unit: 's', storage: 'real' });
    expect(detectFormat({ r: 2461011.0729 }, 'DATETIME')).toEqual({ kind: 'julian' });
    expect(detectFormat('13:45', 'TIME')).toEqual({ kind: 'time', seconds: false, fraction: 0 });
    // empty cells take the declared type's usual text format
    expect(detectFormat(null, 'DATE')).toEqual({ kind: 'text', time: null, zone: '' });
    expect(detectFormat('', 'DATETIME')).toEqual({ kind: 'text', time: { sep: ' ', seconds: true, fraction: 0 }, zone: '' });
  });

  it('leaves alone what it cannot give back unchanged (those cells edit as text)', () => {
    for (const v of ['01/12/2026', '2026-02-30', '2026-12-01 25:00', '2026-12-01 13:45:00.123456', 'tomorrow', '1764590700', { b: 'AA==' }] as WireValue[]) {
      expect(detectFormat(v, 'DATETIME')).toBeNull();
    }
    expect(detectFormat('2026-12-01', 'TEXT')).toBeNull();
  });

  it('round-trips every text value exactly, also as the input normalises it (property)', () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
    const text = fc
      .record({
        y: fc.integer({ min: 1, max: 9999 }).map((n) => String(n).padStart(4, '0')),
        mo: two(11).map((m) => String(+m + 1).padStart(2, '0')),
        d: fc.integer({ min: 1, max: 28 }).map((n) => String(n).padStart(2, '0')),
        time: fc.option(fc.record({ sep: fc.constantFrom(' ', 'T'), h: two(23), mi: two(59), s: fc.option(fc.record({ s: two(59), f: fc.option(fc.integer({ min: 0, max: 999 }).chain((n) => fc.constantFrom(String(n % 10), String(n % 100).padStart(2, '0'), String(n).padStart(3, '0')))) })) })),
        zone: fc.constantFrom('', 'Z', '+02:00', '-0530'),
      })
      .map(({ y, mo, d, time, zone }) =>
        time ? `${y}-${mo}-${d}${time.sep}${time.h}:${time.mi}${time.s ? `:${time.s.s}${time.s.f !== null ? `.${time.s.f}` : ''}` : ''}${zone}` : `${y}-${mo}-${d}`,
      );
    fc.assert(
      fc.property(text, fc.constantFrom('DATE', 'DATETIME', 'TIMESTAMP'), (value, declared) => {
        expect(roundTrip(value, declared)).toEqual([value, value]);
      }),
    );
    for (const t of ['00:00', '23:59:59', '12:00:00.5', '07:30:00.000']) expect(roundTrip(t, 'TIME')).toEqual([t, t]);
  });

  it('round-trips unix seconds and milliseconds exactly, in their class (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62135596800, max: 253402300799 }), (s) => {
        expect(roundTrip({ i: String(s) }, 'TIMESTAMP')).toEqual(Math.abs(s) >= 1e11 ? [expect.anything(), expect.anything()] : [{ i: String(s) }, { i: String(s) }]);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1e11, max: 253402300799999 }), (ms) => {
        expect(roundTrip({ i: String(ms) }, 'TIMESTAMP')).toEqual([{ i: String(ms) }, { i: String(ms) }]);
      }),
    );
  });

  it('writes a picked moment in the stored format and class', () => {
    const at = (value: WireValue, declared: string, picked: string) => {
      const f = detectFormat(value, declared)!;
      return fromPicker(picked, toPicker(value, f).input, f);
    };
    expect(at('2026-12-01 13:45:00', 'DATETIME', '2026-12-24T08:05')).toBe('2026-12-24 08:05:00');
    expect(at('2026-12-01T13:45:00.120Z', 'TIMESTAMP', '2026-12-24T08:05:07.5')).toBe('2026-12-24T08:05:07.500Z');
    expect(at('2026-12-01T13:45+02:00', 'TIMESTAMP', '2027-01-02T00:00')).toBe('2027-01-02T00:00+02:00');
    expect(at('2026-12-01', 'DATE', '2026-02-28')).toBe('2026-02-28');
    expect(at({ i: '0' }, 'TIMESTAMP', '2026-12-01T13:45:00')).toEqual({ i: '1796132700' });
    expect(at({ i: '1796132700000' }, 'TIMESTAMP', '2026-12-01T13:45:00.250')).toEqual({ i: '1796132700250' });
    expect(at({ r: 1.5 }, 'DATETIME', '2026-12-01T13:45:00.250')).toEqual({ r: 1796132700.25 });
    expect(at({ r: 2440587.5 }, 'DATETIME', '2000-01-01T12:00')).toEqual({ r: 2451545 });
    expect(at(null, 'DATE', '')).toBeUndefined();
    expect(at(null, 'DATETIME', '2026-12-01T13:45')).toBe('2026-12-01 13:45:00');
  });

  it('shows numbers as UTC moments; the same moment normalised is no change', () => {
    expect(toPicker({ i: '1796132700' }, detectFormat({ i: '1796132700' }, 'TIMESTAMP')!)).toEqual({ input: 'datetime-local', value: '2026-12-01T13:45:00', step: 1, zone: 'UTC' });
    expect(toPicker({ r: 2451545 }, { kind: 'julian' }).value).toBe('2000-01-01T12:00:00.000');
    expect(samePick('2026-12-01T13:45:00.000', '2026-12-01T13:45', 'datetime-local')).toBe(true);
    expect(samePick('2026-12-01T13:45:00', '2026-12-01T13:46', 'datetime-local')).toBe(false);
    expect(instantText({ i: '1796132700' }, detectFormat({ i: '1796132700' }, 'TIMESTAMP'))).toBe('2026-12-01 13:45:00 UTC');
    expect(describeFormat(detectFormat('2026-12-01T13:45:00.123Z', 'TIMESTAMP')!)).toBe('TEXT YYYY-MM-DDTHH:MM:SS.fffZ');
  });
});
