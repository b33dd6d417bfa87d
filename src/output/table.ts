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
  // One flat array of cell texts, row after row: no object per cell (a table of 10,000 team leases, issue 18).
  const count = columns.length;
  const texts: string[] = new Array(rows.length * count);
  const widths = columns.map((column) => column.header.length);
  for (let r = 0; r < rows.length; r++) {
    const safe = printableRow(rows[r]);
    for (let c = 0; c < count; c++) {
      const text = printableMessage(String(columns[c].value(safe) ?? ''), true, false);
      texts[r * count + c] = text;
      widths[c] = Math.max(widths[c], widthOf(text));
    }
  }
  const line = (cell: (c: number) => string, styled: (s: string) => string = (s) => s) => {
    let out = '';
    for (let c = 0; c < count; c++) {
      const text = cell(c);
      const gap = ' '.repeat(widths[c] - widthOf(text));
      out += `${c ? '  ' : ''}${styled(columns[c].align === 'right' ? gap + text : text + gap)}`;
    }
    return out.trimEnd();
  };
  const lines = [line((c) => columns[c].header, style.header)];
  for (let r = 0; r < rows.length; r++) lines.push(line((c) => texts[r * count + c]));
  return lines.join('\n');
}

/** Columns a cell's text takes: its length without colour codes (only a text with an escape in it has any). */
function widthOf(text: string): number {
  return text.includes('\x1b') ? stripVTControlCharacters(text).length : text.length;
}
