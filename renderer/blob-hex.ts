// A blob as a hex dump for the value panel: offset, `perLine` bytes in hex (8 fit the side panel), the same bytes as ASCII.
export function hexDump(bytes: Uint8Array, limit = 4096, perLine = 8): { text: string; more: number } {
  const lines: string[] = [];
  const shown = Math.min(bytes.length, limit);
  for (let at = 0; at < shown; at += perLine) {
    const chunk = bytes.subarray(at, Math.min(at + perLine, shown));
    const hex = Array.from(chunk, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ');
    const ascii = Array.from(chunk, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(8, '0')}  ${hex.padEnd(perLine * 3 - 1)}  ${ascii}`);
  }
  return { text: lines.join('\n'), more: bytes.length - shown };
}
