import fs from 'node:fs/promises';
import { parse } from 'csv-parse/sync';

/** The rows of a codes file panelctl wrote (header left out), each as its fields: panel, slot, name, code, status. */
export async function readCodesCsv(file: string): Promise<string[][]> {
  const rows = parse(await fs.readFile(file, 'utf8'), { relax_column_count: true, skip_empty_lines: true }) as string[][];
  return rows.filter((row) => !(row[0] === 'panel' && row[3] === 'code'));
}
