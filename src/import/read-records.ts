/** One input record and the line it starts on (1-based, the header being line 1 in CSV). */
export interface InputRecord {
  readonly line: number;
  readonly fields: Record<string, unknown>;
}

export interface RecordError {
  readonly line: number;
  readonly reason: string;
}

export type ImportFormat = 'csv' | 'jsonl';

/** CSV per RFC 4180: a header row, quoted fields with "" for a quote, fields may span lines. */
export function readCsv(text: string): { records: InputRecord[]; errors: RecordError[] } {
  const rows: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowStart = 1;
  const endRow = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0] === '')) rows.push({ line: rowStart, cells });
    cells = [];
    cell = '';
  };
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else {
        if (char === '\n') line += 1;
        cell += char;
      }
    } else if (char === '"' && cell === '') quoted = true;
    else if (char === ',') {
      cells.push(cell);
      cell = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i += 1;
      endRow();
      line += 1;
      rowStart = line;
    } else cell += char;
  }
  if (cell !== '' || cells.length > 0) endRow();
  const [header, ...body] = rows;
  if (!header) return { records: [], errors: [{ line: 1, reason: 'the file is empty; a CSV file starts with a header row' }] };
  const names = header.cells.map((name) => name.trim().toLowerCase());
  const errors: RecordError[] = [];
  const records: InputRecord[] = [];
  for (const row of body) {
    if (row.cells.length !== names.length) {
      errors.push({ line: row.line, reason: `it has ${row.cells.length} fields where the header has ${names.length}` });
      continue;
    }
    records.push({ line: row.line, fields: Object.fromEntries(names.map((name, index) => [name, row.cells[index]])) });
  }
  return { records, errors };
}

/** JSON Lines: one JSON object per line; blank lines are skipped. */
export function readJsonLines(text: string): { records: InputRecord[]; errors: RecordError[] } {
  const records: InputRecord[] = [];
  const errors: RecordError[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    if (raw.trim() === '') return;
    try {
      const value: unknown = JSON.parse(raw);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
      records.push({ line: index + 1, fields: value as Record<string, unknown> });
    } catch {
      errors.push({ line: index + 1, reason: 'it is not a JSON object' });
    }
  });
  return { records, errors };
}
