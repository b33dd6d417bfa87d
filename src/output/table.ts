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
  const cells = rows.map((row) => {
    const safe = printableRow(row);
    return columns.map((column) => cell(printableMessage(String(column.value(safe) ?? ''), true, false)));
  });
  const widths = columns.map((column, i) => {
    let width = column.header.length;
    for (const row of cells) width = Math.max(width, row[i].width);
    return width;
  });
  const pad = ({ text, width }: Cell, i: number) => {
    const gap = ' '.repeat(widths[i] - width);
    return columns[i].align === 'right' ? gap + text : text + gap;
  };
  const lines = [
    columns
      .map((c, i) => style.header(pad(cell(c.header), i)))
      .join('  ')
      .trimEnd(),
  ];
  for (const row of cells) lines.push(row.map(pad).join('  ').trimEnd());
  return lines.join('\n');
}

interface Cell {
  text: string;
  /** Columns the text takes: its length without colour codes. */
  width: number;
}

// Only a text with an escape in it has colour codes to leave out of its width.
function cell(text: string): Cell {
  return { text, width: text.includes('\x1b') ? stripVTControlCharacters(text).length : text.length };
}
