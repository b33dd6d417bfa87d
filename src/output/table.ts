import { stripVTControlCharacters } from 'node:util';

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | undefined;
  align?: 'left' | 'right';
}

/** Plain aligned columns, kubectl-style: no borders, two spaces between columns. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], style: { header: (s: string) => string } = { header: (s) => s }): string {
  const cells = rows.map((row) => columns.map((column) => String(column.value(row) ?? '')));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((r) => stripVTControlCharacters(r[i]).length)));
  const pad = (text: string, i: number) => {
    const gap = ' '.repeat(widths[i] - stripVTControlCharacters(text).length);
    return columns[i].align === 'right' ? gap + text : text + gap;
  };
  const lines = [columns.map((c, i) => style.header(pad(c.header, i))).join('  ').trimEnd()];
  for (const row of cells) lines.push(row.map(pad).join('  ').trimEnd());
  return lines.join('\n');
}
