import { describe, expect, it } from 'vitest';
import { hexDump } from './blob-hex.ts';

describe('hex dump', () => {
  it('shows offsets, hex and printable ASCII, and how many bytes are left out', () => {
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...Array.from({ length: 12 }, (_, i) => 0x41 + i)]);
    expect(hexDump(bytes, 4096, 16)).toEqual({
      text: '00000000  89 50 4E 47 0D 0A 1A 0A 41 42 43 44 45 46 47 48  .PNG....ABCDEFGH\n00000010  49 4A 4B 4C                                      IJKL',
      more: 0,
    });
    expect(hexDump(bytes).text.split('\n')[1]).toBe('00000008  41 42 43 44 45 46 47 48  ABCDEFGH');
    expect(hexDump(new Uint8Array(40), 16)).toMatchObject({ more: 24 });
    expect(hexDump(new Uint8Array(0))).toEqual({ text: '', more: 0 });
  });
});
