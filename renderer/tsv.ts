// Cell ranges on the clipboard as TSV, the way spreadsheets exchange them: tab between cells,
// newline between rows, a field quoted when it holds a tab, newline or quote.

export function toTsv(rows: string[][]): string {
  const field = (s: string) => (/[\t\n\r"]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return rows.map((r) => r.map(field).join('\t')).join('\n');
}

export function parseTsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  const t = text.replace(/\r\n?/g, '\n').replace(/\n$/, '');
  while (i <= t.length) {
    if (t[i] === '"' && field === '') {
      // quoted field
      i++;
      while (i < t.length) {
        if (t[i] === '"' && t[i + 1] === '"') {
          field += '"';
          i += 2;
        } else if (t[i] === '"') {
          i++;
          break;
        } else field += t[i++];
      }
      continue;
    }
    const ch = t[i];
    if (ch === '\t') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === undefined) {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
    i++;
  }
  return rows;
}
