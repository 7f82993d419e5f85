import { parseCsv } from './csv.js';

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

/**
 * CSV with a header row (see `parseCsv` for what spreadsheets may send). A row with another number of fields than
 * the header, or a malformed quote, is an error on its line; the other rows are records.
 */
export function readCsv(text: string): { records: InputRecord[]; errors: RecordError[] } {
  const { rows, problems } = parseCsv(text);
  const [header, ...body] = rows;
  if (!header) return { records: [], errors: problems.length > 0 ? problems : [{ line: 1, reason: 'the file is empty; a CSV file starts with a header row' }] };
  // Without its header row, no row can be read.
  if (problems.some((problem) => problem.line < header.line)) return { records: [], errors: problems };
  const names = header.cells.map((name) => name.trim().toLowerCase());
  const errors: RecordError[] = [...problems];
  const records: InputRecord[] = [];
  for (const row of body) {
    if (row.cells.length !== names.length) {
      errors.push({ line: row.line, reason: `it has ${row.cells.length} fields where the header has ${names.length}` });
      continue;
    }
    records.push({ line: row.line, fields: Object.fromEntries(names.map((name, index) => [name, row.cells[index]])) });
  }
  return { records, errors: errors.sort((a, b) => a.line - b.line) };
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
