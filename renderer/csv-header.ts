// The first record of a CSV file (RFC 4180: quoted fields, doubled quotes, line breaks inside
// quotes), for the import dialog to name the columns before main parses the whole file.
export function csvFirstRecord(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  let field = '';
  while (i < text.length) {
    const c = text[i];
    if (c === '"' && field === '') {
      i++;
      while (i < text.length) {
        if (text[i] === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
        else if (text[i] === '"') {
          i++;
          break;
        } else field += text[i++];
      }
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') break;
    field += c;
    i++;
  }
  if (text.length) fields.push(field);
  return fields;
}

/** Column names an import into a new table gives (as main does: columnN for an empty or absent name). */
export function importColumnNames(text: string, header: boolean): string[] {
  const first = csvFirstRecord(text);
  return first.map((f, i) => (header && f ? f : `column${i + 1}`));
}
