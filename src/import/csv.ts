import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

/** One CSV row and the line it starts on (1-based, counting every line of the file). */
export interface CsvRow {
  readonly line: number;
  readonly cells: string[];
}

export interface CsvProblem {
  readonly line: number;
  readonly reason: string;
}

const REWRITE_QUOTES = 'quote the whole field and write a quote inside it as ""';

const REASONS: Partial<Record<CsvError['code'], string>> = {
  CSV_INVALID_CLOSING_QUOTE: `a quoted field goes on after its closing quote; ${REWRITE_QUOTES}`,
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: `a quoted field goes on after its closing quote; ${REWRITE_QUOTES}`,
  INVALID_OPENING_QUOTE: `a field has a quote but does not start with one; ${REWRITE_QUOTES}`,
  CSV_QUOTE_NOT_CLOSED: 'a quoted field that starts on this line is never closed',
};

/** Spreadsheets set to a language that writes decimal commas (Excel in most of Europe) separate fields with ";". */
function delimiterOf(headerLine: string): ',' | ';' {
  const count = (char: string) => headerLine.split(char).length - 1;
  return count(';') > count(',') ? ';' : ',';
}

const lineBreaks = (cells: readonly string[]) => cells.reduce((sum, cell) => sum + cell.split('\n').length - 1, 0);

/**
 * Reads CSV as spreadsheets write it: RFC 4180 quoting, a UTF-8 byte order mark, CRLF or LF, "," or ";" (decided by
 * the header row), quoted fields over several lines. Blank lines are skipped. A malformed quote is reported on its
 * line, and reading goes on from the next line, so one stray quote does not hide the problems after it.
 */
export function parseCsv(text: string): { rows: CsvRow[]; problems: CsvProblem[] } {
  // One line ending, so that csv-parse's line count matches an editor's also inside quoted fields.
  const normalized = text.replace(/\r\n?/g, '\n');
  const lines = normalized.split('\n');
  const lineStarts = [0];
  for (const line of lines) lineStarts.push(lineStarts.at(-1)! + line.length + 1);
  const delimiter = delimiterOf(lines[0]!);
  const rows: CsvRow[] = [];
  const problems: CsvProblem[] = [];
  // Lines before the text being parsed, and the last line of the last row read.
  let offset = 0;
  let lastRowEnd = 0;
  while (offset < lines.length) {
    try {
      parse(normalized.slice(lineStarts[offset]), {
        bom: offset === 0,
        delimiter,
        relax_column_count: true,
        skip_empty_lines: true,
        on_record: (cells: string[], { lines: end }) => {
          rows.push({ line: offset + end - lineBreaks(cells), cells });
          lastRowEnd = offset + end;
          return null;
        },
      });
      break;
    } catch (error) {
      if (!(error instanceof CsvError)) throw error;
      let rowStart = lastRowEnd + 1;
      while (lines[rowStart - 1] === '') rowStart += 1;
      // An unclosed quote runs to the end of the file: the line it opened on is the one to fix.
      const line = error.code === 'CSV_QUOTE_NOT_CLOSED' ? rowStart : offset + Number(error.lines);
      problems.push({ line, reason: REASONS[error.code] ?? `it is not valid CSV: ${error.message.split(':')[0]!.toLowerCase()}` });
      offset = Math.max(line, offset + 1);
      lastRowEnd = offset;
    }
  }
  return { rows, problems };
}

/**
 * CSV for spreadsheets, with a header row. A cell that starts with =, +, -, @ or a tab is prefixed with ' so that
 * a spreadsheet shows it instead of running it as a formula (a member's name is whatever they typed).
 */
export function writeCsv<Column extends string>(columns: readonly Column[], rows: ReadonlyArray<Readonly<Record<Column, string | number>>>): string {
  return stringify([...rows], { header: true, columns: [...columns], escape_formulas: true });
}
