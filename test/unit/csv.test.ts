import { describe, expect, it } from '@jest/globals';
import { writeCsv } from '../../src/import/csv.js';
import { readCsv } from '../../src/import/read-records.js';

const BOM = '\uFEFF';
const MISPLACED_CLOSING = 'a quoted field goes on after its closing quote; quote the whole field and write a quote inside it as ""';
const STRAY_QUOTE = 'a field has a quote but does not start with one; quote the whole field and write a quote inside it as ""';
const UNCLOSED = 'a quoted field that starts on this line is never closed';

type Expected = { records: Array<[number, Record<string, string>]>; errors: Array<[number, string]> };

const cases: Array<[string, string, Expected]> = [
  ['a header, rows and a blank line', 'email,name\nada@city.test,Ada\n\nbob@city.test,"Builder, Bob"\n', {
    records: [[2, { email: 'ada@city.test', name: 'Ada' }], [4, { email: 'bob@city.test', name: 'Builder, Bob' }]],
    errors: [],
  }],
  ['header names in any case and spacing', ' Email , NAME\nada@city.test,Ada', {
    records: [[2, { email: 'ada@city.test', name: 'Ada' }]],
    errors: [],
  }],
  ['a UTF-8 byte order mark', `${BOM}email,name\nada@city.test,Ada\n`, {
    records: [[2, { email: 'ada@city.test', name: 'Ada' }]],
    errors: [],
  }],
  ['Excel\'s ";" with a byte order mark and CRLF', `${BOM}email;name;orgs\r\nada@city.test;"Lovelace; Ada";"city:owner;county"\r\nbob@city.test;Bob, Builder;county\r\n`, {
    records: [
      [2, { email: 'ada@city.test', name: 'Lovelace; Ada', orgs: 'city:owner;county' }],
      [3, { email: 'bob@city.test', name: 'Bob, Builder', orgs: 'county' }],
    ],
    errors: [],
  }],
  ['";" only where the header has no more of them than ","', 'email,name,orgs\nada@city.test,Ada,city:owner;county\n', {
    records: [[2, { email: 'ada@city.test', name: 'Ada', orgs: 'city:owner;county' }]],
    errors: [],
  }],
  ['quoted fields over several lines, and the line numbers after them', 'email,name\nada@city.test,"Ada\nLovelace\nByron"\n\nbob@city.test,"Bob\n"\ncarl@city.test,Carl\n', {
    records: [
      [2, { email: 'ada@city.test', name: 'Ada\nLovelace\nByron' }],
      [6, { email: 'bob@city.test', name: 'Bob\n' }],
      [8, { email: 'carl@city.test', name: 'Carl' }],
    ],
    errors: [],
  }],
  ['CRLF inside a quoted field of a CRLF file', 'email,name\r\nada@city.test,"Ada\r\nLovelace"\r\nbob@city.test,Bob\r\n', {
    records: [[2, { email: 'ada@city.test', name: 'Ada\nLovelace' }], [4, { email: 'bob@city.test', name: 'Bob' }]],
    errors: [],
  }],
  ['a field that goes on after its closing quote', 'email,name\nada@city.test,"Ada" Lovelace\nbob@city.test,Bob\n', {
    records: [[3, { email: 'bob@city.test', name: 'Bob' }]],
    errors: [[2, MISPLACED_CLOSING]],
  }],
  ['a quote in the middle of a field, after a quoted field over several lines', 'email,name\nada@city.test,"Ada\nLovelace"\nbob@city.test,Bob "the" Builder\ncarl@city.test,Carl\n', {
    records: [[2, { email: 'ada@city.test', name: 'Ada\nLovelace' }], [5, { email: 'carl@city.test', name: 'Carl' }]],
    errors: [[4, STRAY_QUOTE]],
  }],
  ['a quote never closed: reported where it opens, the lines after still read', 'email,name\nada@city.test,"Ada\nbob@city.test,Bob\n', {
    records: [[3, { email: 'bob@city.test', name: 'Bob' }]],
    errors: [[2, UNCLOSED]],
  }],
  ['rows with too many or too few fields', 'email,name\nada@city.test,Ada,extra\nbob@city.test\n', {
    records: [],
    errors: [[2, 'it has 3 fields where the header has 2'], [3, 'it has 1 fields where the header has 2']],
  }],
  ['a malformed header: nothing can be read', 'email,"name\nada@city.test,Ada\n', {
    records: [],
    errors: [[1, UNCLOSED]],
  }],
  ['an empty file', '', { records: [], errors: [[1, 'the file is empty; a CSV file starts with a header row']] }],
  ['a byte order mark and nothing else', `${BOM}\r\n`, { records: [], errors: [[1, 'the file is empty; a CSV file starts with a header row']] }],
];

describe('reading CSV', () => {
  for (const [name, text, expected] of cases) {
    it(`reads ${name}`, () => {
      const { records, errors } = readCsv(text);
      expect({
        records: records.map((record) => [record.line, record.fields]),
        errors: errors.map((error) => [error.line, error.reason]),
      }).toStrictEqual(expected);
    });
  }

  it('reads Excel\'s ";"-separated export as the same records as the ","-separated one', () => {
    const comma = 'email,name,orgs\nada@city.test,"Lovelace, Ada","city:owner;county"\n';
    const excel = `${BOM}email;name;orgs\r\nada@city.test;Lovelace, Ada;"city:owner;county"\r\n`;
    expect(readCsv(excel)).toStrictEqual(readCsv(comma));
    expect(readCsv(excel).records).toStrictEqual([{ line: 2, fields: { email: 'ada@city.test', name: 'Lovelace, Ada', orgs: 'city:owner;county' } }]);
  });
});

describe('writing CSV', () => {
  const columns = ['email', 'name', 'recovery_codes_remaining'] as const;

  it('writes a header and quotes only what needs quoting', () => {
    expect(writeCsv(columns, [
      { email: 'ada@city.test', name: 'Lovelace, Ada', recovery_codes_remaining: 10 },
      { email: 'bob@city.test', name: 'Bob "the" Builder\nof Springfield', recovery_codes_remaining: 0 },
    ])).toBe([
      'email,name,recovery_codes_remaining',
      'ada@city.test,"Lovelace, Ada",10',
      'bob@city.test,"Bob ""the"" Builder\nof Springfield",0',
      '',
    ].join('\n'));
  });

  it('writes the header alone when there are no rows', () => {
    expect(writeCsv(columns, [])).toBe('email,name,recovery_codes_remaining\n');
  });

  it('keeps a spreadsheet from running a cell as a formula', () => {
    const names = ['=HYPERLINK("https://evil.example","click")', '+1 555 0100', '-2+3', '@SUM(A1)'];
    const written = writeCsv(columns, names.map((name) => ({ email: 'x@city.test', name, recovery_codes_remaining: 1 })));
    expect(readCsv(written).records.map((record) => record.fields.name)).toStrictEqual(names.map((name) => `'${name}`));
  });

  it('is read back as it was written', () => {
    const rows = [
      { email: 'ada@city.test', name: 'Lovelace, Ada', recovery_codes_remaining: '10' },
      { email: 'bob@city.test', name: 'Bob "the" Builder\nof Springfield', recovery_codes_remaining: '' },
    ];
    expect(readCsv(writeCsv(columns, rows)).records).toStrictEqual([
      { line: 2, fields: rows[0] },
      { line: 3, fields: rows[1] },
    ]);
  });
});
