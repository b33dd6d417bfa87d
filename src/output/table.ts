import { stripVTControlCharacters } from 'node:util';
import { printableMessage, printableRow } from './printable.js';

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | undefined;
  align?: 'left' | 'right';
}

/**
 * Plain aligned columns, kubectl-style: no borders, two spaces between columns.
 * Rows hold outside text (names read from panels, inventory fields, audit entries): their
 * strings are made printable before the columns format them, so a column's own colours stay
 * and a name's escape sequences show as `\x1b` (see printable.ts).
 */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], style: { header: (s: string) => string } = { header: (s) => s }): string {
  const cells = rows.map(printableRow).map((row) => columns.map((column) => printableMessage(String(column.value(row) ?? ''), true, false)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((r) => stripVTControlCharacters(r[i]).length)));
  const pad = (text: string, i: number) => {
    const gap = ' '.repeat(widths[i] - stripVTControlCharacters(text).length);
    return columns[i].align === 'right' ? gap + text : text + gap;
  };
  const lines = [
    columns
      .map((c, i) => style.header(pad(c.header, i)))
      .join('  ')
      .trimEnd(),
  ];
  for (const row of cells) lines.push(row.map(pad).join('  ').trimEnd());
  return lines.join('\n');
}
