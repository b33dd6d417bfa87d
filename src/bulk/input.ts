import fs from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { UsageError, ValidationError } from '../core/errors.js';
import { matchesSelector, type Target } from '../inventory/targets.js';
import type { CodeBook } from './codes.js';

/**
 * Reads the change list a person wrote (CSV or JSON Lines) into validated rows. Every bad
 * row is collected, and if there is one the whole file is refused, so a run never starts on
 * half a list. Rows are numbered from 1, not counting the CSV header.
 */

export type BulkAction = 'add' | 'set-code' | 'remove';

/** Where a new code comes from. The plan keeps only this reference, never the code. */
export type CodeSource = { source: 'generate' } | { source: 'codes'; column: string; row: number } | { source: 'stdin' };

export interface ChangeRow {
  row: number;
  /** The panels this row applies to, after expanding a selector and applying --limit. */
  panels: string[];
  action: BulkAction;
  slot?: number;
  /** The user's current name on the panel, to find the slot by (set-code, remove). */
  user?: string;
  /** The name to create (add). */
  name?: string;
  partitions?: number[];
  type?: string;
  code?: CodeSource;
}

export interface RowProblem {
  row: number;
  field: string;
  problem: string;
}

const ACTIONS: readonly BulkAction[] = ['add', 'set-code', 'remove'];
const FIELDS = ['panel', 'action', 'slot', 'user', 'name', 'partitions', 'type', 'code'];

/** The raw records of a CSV (header row) or JSON Lines file, as strings. */
export function readRecords(text: string, file: string): Array<Record<string, unknown>> {
  const jsonLines = /\.(jsonl|ndjson)$/i.test(file) || (!/\.csv$/i.test(file) && text.trimStart().startsWith('{'));
  if (jsonLines) {
    const lines = text.split(/\r?\n/).filter((line) => line.trim());
    return lines.map((line, index) => {
      try {
        const value = JSON.parse(line);
        if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
      } catch {
        // reported below as a problem with this row
      }
      return { __invalid: `row ${index + 1} is not a JSON object` };
    });
  }
  try {
    return parseCsv(text, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, trim: true }) as Array<Record<string, unknown>>;
  } catch (error) {
    throw new UsageError(`${path.basename(file)} is not valid CSV: ${(error as Error).message}`, { code: 'E_INVALID' });
  }
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s = Array.isArray(value) ? value.join(',') : String(value).trim();
  return s === '' ? undefined : s;
}

export interface ParseOptions {
  targets: readonly Target[];
  /** --limit: only panels matching this selector take part. */
  limit?: string;
  /** The codes file (--codes), needed by `codes:COLUMN` sources. */
  codes?: CodeBook;
}

/** Validates every record; throws one ValidationError listing every problem, with row numbers. */
export function parseChanges(records: Array<Record<string, unknown>>, options: ParseOptions): ChangeRow[] {
  const problems: RowProblem[] = [];
  const rows: ChangeRow[] = [];
  const names = new Set(options.targets.map((t) => t.name));
  const inScope = options.targets.filter((t) => matchesSelector(t, options.limit));
  const seen = new Map<string, number>();

  records.forEach((record, index) => {
    const row = index + 1;
    const problem = (field: string, message: string) => problems.push({ row, field, problem: message });
    if (typeof record.__invalid === 'string') return problem('row', 'is not a JSON object');
    for (const key of Object.keys(record)) if (!FIELDS.includes(key)) problem(key, `unknown column (columns: ${FIELDS.join(', ')})`);

    const panel = text(record.panel);
    let panels: string[] = [];
    if (!panel) problem('panel', 'is required (a panel name, a tag selector like site=oslo, or * with --limit)');
    else if (panel === '*') panels = inScope.map((t) => t.name);
    else if (panel.includes('=')) {
      panels = inScope.filter((t) => matchesSelector(t, panel)).map((t) => t.name);
      if (!options.targets.some((t) => matchesSelector(t, panel))) problem('panel', `selector "${panel}" matches no panel in the inventory`);
    } else if (!names.has(panel)) problem('panel', `no panel named "${panel}" in the inventory`);
    else if (inScope.some((t) => t.name === panel)) panels = [panel];

    const action = text(record.action) as BulkAction | undefined;
    if (!action || !ACTIONS.includes(action)) problem('action', `must be one of ${ACTIONS.join(', ')}`);

    let slot: number | undefined;
    const slotText = text(record.slot);
    if (slotText !== undefined) {
      if (!/^\d+$/.test(slotText) || Number(slotText) < 1) problem('slot', 'must be a whole number from 1');
      else slot = Number(slotText);
    }
    const user = text(record.user);
    const name = text(record.name);
    if ((action === 'set-code' || action === 'remove') && slot === undefined && !user) problem('slot', `${action} needs a slot or a user name`);
    if (action === 'add' && !name) problem('name', 'add needs the name of the user to create');

    let partitions: number[] | undefined;
    const partitionText = text(record.partitions);
    if (partitionText !== undefined) {
      partitions = partitionText.split(/[,; ]+/).map(Number);
      if (partitions.some((p) => !Number.isInteger(p) || p < 1 || p > 32)) problem('partitions', 'must be partition numbers 1..32, e.g. "1,2"');
    }

    const code = parseCodeSource(text(record.code), action, row, options.codes, problem);
    for (const key of panels.flatMap((p) => [slot !== undefined ? `${p}#${slot}` : undefined, user ? `${p}@${user}` : undefined])) {
      if (!key) continue;
      const other = seen.get(key);
      if (other !== undefined) problem('slot', `changes the same ${key.includes('#') ? 'slot' : 'user'} on ${key.split(/[#@]/)[0]} as row ${other}`);
      else seen.set(key, row);
    }
    rows.push({ row, panels, action: action as BulkAction, slot, user, name, partitions, type: text(record.type), code });
  });

  if (records.length === 0) problems.push({ row: 0, field: 'file', problem: 'has no rows' });
  if (problems.length) {
    const first = problems[0];
    throw new ValidationError(`row ${first.row} ${first.field}`, first.problem, {
      hint: `${problems.length} problem(s), nothing was done:\n${problems.map((p) => `  - row ${p.row}, ${p.field}: ${p.problem}`).join('\n')}`,
      data: { problems },
    });
  }
  return rows;
}

function parseCodeSource(value: string | undefined, action: BulkAction | undefined, row: number, codes: CodeBook | undefined, problem: (field: string, message: string) => void): CodeSource | undefined {
  if (action === 'remove') {
    if (value !== undefined) problem('code', 'must be empty for remove');
    return undefined;
  }
  if (value === undefined) {
    problem('code', 'is required: generate, codes:COLUMN (with --codes FILE) or stdin');
    return undefined;
  }
  if (value === 'generate') return { source: 'generate' };
  if (value === 'stdin') return { source: 'stdin' };
  const match = /^codes:(.+)$/.exec(value);
  if (!match) {
    // Whatever was there might be a code someone typed in: never repeat it.
    problem('code', 'must be generate, codes:COLUMN or stdin (codes are never written in the change list)');
    return undefined;
  }
  const column = match[1].trim().toLowerCase();
  if (!codes) problem('code', `${value} needs the codes file: give --codes FILE`);
  else {
    const found = codes.lookup(column, row);
    if (found !== 'ok') problem('code', found);
  }
  return { source: 'codes', column, row };
}

/** Reads and validates a change list file. */
export async function readChanges(file: string, options: ParseOptions): Promise<ChangeRow[]> {
  let content: string;
  try {
    content = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { code: 'E_INVALID' });
  }
  return parseChanges(readRecords(content, file), options);
}
