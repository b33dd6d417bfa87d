import { stringify } from 'csv-stringify/sync';

/**
 * CSV that is safe to open in a spreadsheet. Names come from change lists and from panels, so
 * a cell could be a formula (`=HYPERLINK(...)`, `+1+1`, `@SUM(...)`) or split a row. Every field
 * is quoted (csv-stringify, so quotes and newlines inside are escaped), and a field starting
 * with = + - @ tab or carriage return gets a leading apostrophe, as OWASP's CSV-injection
 * guidance says, so a spreadsheet shows it as text. A leading apostrophe is doubled too, so
 * restoreCell() gives back exactly what was written.
 */
const FORMULA_START = /^[=+\-@\t\r']/;

export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

export function restoreCell(value: string): string {
  return value.startsWith("'") && FORMULA_START.test(value.slice(1)) ? value.slice(1) : value;
}

/** Rows as CSV text: every field quoted and neutralised, one line per row (\n). */
export function csvRow(rows: string[][]): string {
  return stringify(
    rows.map((row) => row.map(neutraliseCell)),
    { quoted: true, quoted_empty: true, record_delimiter: 'unix', eof: true },
  );
}
