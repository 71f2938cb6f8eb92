import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJson, compactJson, formatJson, isJsonDocument, jsonLayout, spacedJson } from './json-text.ts';
import { openJson, savedJson, toggleJson } from './json-edit.ts';

/** JSON texts with what JSON.parse/stringify would change: 1.0, big integers, escapes, unicode, whitespace in strings */
const jsonText = fc
  .letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom('1.0', '12345678901234567890', '-0', '1e5', 'true', 'null', '"a\\u00e9\\n"', '"  spaced  "', '"x\\"y"', '"é"', '""'),
      fc.array(tie('value'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
      fc.array(fc.tuple(fc.constantFrom('"k"', '"a b"', '"\\t"', '"ключ"'), tie('value')), { maxLength: 4 }).map((kv) => `{${kv.map(([k, v]) => `${k}:${v}`).join(',')}}`),
    ),
  }))
  .value.filter((t) => t.startsWith('{') || t.startsWith('['));

describe('JSON text: formatting moves whitespace only', () => {
  it('lays out like JSON.stringify(v, null, 2), with numbers and escapes exactly as written', () => {
    expect(formatJson('{"a":1,"b":[1.0,{}],"c":[]}')).toBe('{\n  "a": 1,\n  "b": [\n    1.0,\n    {}\n  ],\n  "c": []\n}');
    expect(compactJson('{ "a" : 12345678901234567890 ,\n "s": " x  y "}')).toBe('{"a":12345678901234567890,"s":" x  y "}');
    expect(spacedJson('{"a":1,"b":[1,2]}')).toBe('{"a": 1, "b": [1, 2]}');
  });

  it('keeps every token for any JSON (property): compact(format(x)) = compact(x), and the value parses the same', () => {
    fc.assert(
      fc.property(jsonText, fc.constantFrom('  ', '    ', '\t'), (text, indent) => {
        const formatted = formatJson(text, indent);
        expect(compactJson(formatted)).toBe(compactJson(text));
        expect(JSON.parse(formatted)).toEqual(JSON.parse(text));
        expect(jsonLayout(formatted)).toEqual(formatted === compactJson(text) ? { kind: 'compact' } : { kind: 'formatted', indent });
      }),
    );
  });

  it('knows a layout it can give back, and one it cannot', () => {
    expect(jsonLayout('{"a":1}')).toEqual({ kind: 'compact' });
    expect(jsonLayout('{"a": 1, "b": 2}')).toEqual({ kind: 'spaced' });
    expect(jsonLayout('{\n    "a": 1\n}')).toEqual({ kind: 'formatted', indent: '    ' });
    expect(jsonLayout('{ "a":1 }')).toEqual({ kind: 'other' });
  });

  it('says where and why a text is not JSON', () => {
    expect(checkJson('{"a":1,\n "b" 2}')).toMatchObject({ ok: false, line: 2, column: 6 });
    expect(checkJson('[1, 2')).toMatchObject({ ok: false, line: 1 });
    expect(checkJson('{"a":[1,2]}')).toEqual({ ok: true, shape: 'object', size: 1 });
    expect(isJsonDocument(' [1]')).toBe(true);
    expect(isJsonDocument('[1')).toBe(false);
    expect(isJsonDocument('5')).toBe(false);
  });
});

describe('the JSON editor writes only what the user changed, in the value\'s layout', () => {
  it('closing it untouched writes nothing, for any value and either view (property)', () => {
    fc.assert(
      fc.property(fc.oneof(jsonText, jsonText.map((t) => formatJson(t, '    ')), jsonText.map(spacedJson), jsonText.map((t) => ` ${t.replace(/,/g, ' ,  ').replace(/:/g, ' :')}`), fc.string()), (original) => {
        const opened = openJson(original);
        expect(savedJson(opened.text, opened.mode, original)).toEqual({ write: false });
        const toggled = toggleJson(opened.text, opened.mode, original);
        if (!('error' in toggled)) {
          expect(savedJson(toggled.text, toggled.mode, original)).toEqual({ write: false });
          const back = toggleJson(toggled.text, toggled.mode, original);
          expect(back).toEqual(opened);
          if (!('error' in back)) expect(savedJson(back.text, back.mode, original)).toEqual({ write: false });
        }
      }),
    );
  });

  it('an edit of a compact value is stored compact, of a formatted one formatted with its indent', () => {
    const compact = '{"id":7,"tags":["a","b"],"price":1.50}';
    const opened = openJson(compact);
    expect(opened.mode).toBe('formatted');
    const edited = opened.text.replace('"b"', '"b",\n     "c"');
    expect(savedJson(edited, 'formatted', compact)).toEqual({ write: true, value: '{"id":7,"tags":["a","b","c"],"price":1.50}', valid: true });
    // whitespace moved in the formatted view is no change of a compact value
    expect(savedJson(opened.text.replace('\n  "id"', '\n\n      "id"'), 'formatted', compact)).toEqual({ write: false });
    const four = '{\n    "a": 1\n}';
    expect(savedJson(openJson(four).text.replace('1', '2'), 'formatted', four)).toEqual({ write: true, value: '{\n    "a": 2\n}', valid: true });
  });

  it('a value of another layout opens as it is; formatting it and editing stores the formatted text', () => {
    const odd = '{ "a":1 }';
    expect(openJson(odd)).toEqual({ mode: 'raw', text: odd });
    const formatted = toggleJson(odd, 'raw', odd);
    expect(formatted).toEqual({ mode: 'formatted', text: '{\n  "a": 1\n}' });
    expect(savedJson('{\n  "a": 2\n}', 'formatted', odd)).toEqual({ write: true, value: '{\n  "a": 2\n}', valid: true });
  });

  it('invalid JSON is kept as typed and flagged; it cannot be formatted', () => {
    expect(savedJson('{"a":', 'raw', '{"a":1}')).toEqual({ write: true, value: '{"a":', valid: false });
    expect(savedJson('{\n  "a": \n}', 'formatted', '{"a":1}')).toEqual({ write: true, value: '{\n  "a": \n}', valid: false });
    expect(toggleJson('{"a":', 'raw', '{"a":1}')).toMatchObject({ error: expect.stringContaining('line 1') });
  });
});
