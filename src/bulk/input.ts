import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { UsageError, ValidationError } from '../core/errors.js';
import type { DriverRegistry } from '../core/contract.js';
import { MiB, readTextBounded } from '../core/bounded-read.js';
import { matchesSelector, type Target } from '../inventory/targets.js';
import type { CodeBook } from './codes.js';

/**
 * Reads the change list a person wrote (CSV or JSON Lines) into validated rows. Every bad
 * row is collected, and if there is one the whole file is refused, so a run never starts on
 * half a list. Rows are numbered from 1, not counting the CSV header.
 */

export type BulkAction = 'add' | 'set-code' | 'remove';

/** Limits (README "Limits"): a change list is read with a byte cap and a row cap; an error lists its first problems. */
export const CHANGES_MAX_BYTES = 16 * MiB;
export const CHANGES_MAX_ROWS = 100_000;
/** Changes after selectors expand: rows x the panels each reaches. */
export const CHANGES_MAX_PANEL_ROWS = 1_000_000;
/** Problems listed in the message (the JSON error's data keeps up to PROBLEMS_KEPT). */
export const PROBLEMS_SHOWN = 20;
export const PROBLEMS_KEPT = 1000;

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
  /** The row means to write a duress (hold-up) code: required for a duress slot (issue 17 item 4). */
  duress?: boolean;
  /** `*` without --limit: the row reaches every panel of the inventory (needs --all or a yes). */
  everyPanel?: boolean;
}

export interface RowProblem {
  row: number;
  field: string;
  problem: string;
}

const ACTIONS: readonly BulkAction[] = ['add', 'set-code', 'remove'];
const FIELDS = ['panel', 'action', 'slot', 'user', 'name', 'partitions', 'type', 'code', 'duress'];

/** The raw records of a CSV (header row) or JSON Lines file, as strings. */
export function readRecords(text: string, file: string): Array<Record<string, unknown>> {
  const jsonLines = /\.(jsonl|ndjson)$/i.test(file) || (!/\.csv$/i.test(file) && text.trimStart().startsWith('{'));
  const tooMany = () =>
    new UsageError(`${path.basename(file)} has more than ${CHANGES_MAX_ROWS} rows, the limit for a change list`, {
      code: 'E_TOO_LARGE',
      hint: 'split it (by site or customer) into several plans',
    });
  if (jsonLines) {
    const lines = text.split(/\r?\n/).filter((line) => line.trim());
    if (lines.length > CHANGES_MAX_ROWS) throw tooMany();
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
    // `to`: csv-parse stops after one record past the limit instead of reading the rest.
    const records = parseCsv(text, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      to: CHANGES_MAX_ROWS + 1,
    }) as Array<Record<string, unknown>>;
    if (records.length > CHANGES_MAX_ROWS) throw tooMany();
    return records;
  } catch (error) {
    if (error instanceof UsageError) throw error;
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
  /** Drivers whose panels keep no user names (DSC): an `add` for them needs no name. */
  namelessDrivers?: ReadonlySet<string>;
}

/** Validates every record; throws one ValidationError listing every problem, with row numbers. */
export function parseChanges(records: Array<Record<string, unknown>>, options: ParseOptions): ChangeRow[] {
  const problems: RowProblem[] = [];
  let problemCount = 0;
  const drivers = new Map(options.targets.map((t) => [t.name, t.driver]));
  const keepsNames = (panel: string) => !options.namelessDrivers?.has(drivers.get(panel) ?? '');
  const rows: ChangeRow[] = [];
  const names = new Set(options.targets.map((t) => t.name));
  const inScope = options.targets.filter((t) => matchesSelector(t, options.limit));
  const seen = new Map<string, number>();
  const allInScope = inScope.map((t) => t.name);
  let changes = 0;

  records.forEach((record, index) => {
    const row = index + 1;
    const problem = (field: string, message: string) => {
      problemCount++;
      if (problems.length < PROBLEMS_KEPT) problems.push({ row, field, problem: message });
    };
    if (typeof record.__invalid === 'string') return problem('row', 'is not a JSON object');
    for (const key of Object.keys(record)) if (!FIELDS.includes(key)) problem(key, `unknown column (columns: ${FIELDS.join(', ')})`);

    const panel = text(record.panel);
    let panels: string[] = [];
    const everyPanel = panel === '*' && !options.limit ? true : undefined;
    if (!panel) problem('panel', 'is required (a panel name, a tag selector like site=oslo, or * with --limit)');
    else if (panel === '*') panels = allInScope;
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
    // Panels that keep no names (DSC) need none; a row reaching any panel that keeps names does.
    if (action === 'add' && !name && (panels.length === 0 || panels.some(keepsNames))) problem('name', 'add needs the name of the user to create');

    let partitions: number[] | undefined;
    const partitionText = text(record.partitions);
    // Only an add gives a user its partitions and type: on another row they would be dropped unseen.
    for (const field of ['partitions', 'type'] as const) {
      if (action !== 'add' && text(record[field]) !== undefined) problem(field, `only an add row sets it (${action} leaves the user's ${field} as they are)`);
    }
    if (partitionText !== undefined) {
      partitions = partitionText.split(/[,; ]+/).map(Number);
      if (partitions.some((p) => !Number.isInteger(p) || p < 1 || p > 32)) problem('partitions', 'must be partition numbers 1..32, e.g. "1,2"');
    }

    changes += panels.length;
    if (changes > CHANGES_MAX_PANEL_ROWS) {
      throw new UsageError(`the change list reaches more than ${CHANGES_MAX_PANEL_ROWS} (row, panel) pairs by row ${row}, the limit for one plan`, {
        code: 'E_TOO_LARGE',
        hint: 'narrow it with --limit, or split it into several plans',
      });
    }
    const code = parseCodeSource(text(record.code), action, row, options.codes, problem);
    const duressText = text(record.duress);
    if (duressText !== undefined && !['true', 'false', 'yes', 'no', ''].includes(duressText.toLowerCase())) problem('duress', 'must be true or false');
    const duress = duressText !== undefined && ['true', 'yes'].includes(duressText.toLowerCase()) ? true : undefined;
    for (const key of panels.flatMap((p) => [slot !== undefined ? `${p}#${slot}` : undefined, user ? `${p}@${user}` : undefined])) {
      if (!key) continue;
      const other = seen.get(key);
      if (other !== undefined) problem('slot', `changes the same ${key.includes('#') ? 'slot' : 'user'} on ${key.split(/[#@]/)[0]} as row ${other}`);
      else seen.set(key, row);
    }
    rows.push({ row, panels, action: action as BulkAction, slot, user, name, partitions, type: text(record.type), code, duress, everyPanel });
  });

  if (records.length === 0) {
    problemCount++;
    problems.push({ row: 0, field: 'file', problem: 'has no rows' });
  }
  if (problems.length) {
    const first = problems[0];
    const listed = problems.slice(0, PROBLEMS_SHOWN).map((p) => `  - row ${p.row}, ${p.field}: ${p.problem}`);
    if (problemCount > listed.length) listed.push(`  ... and ${problemCount - listed.length} more`);
    throw new ValidationError(`row ${first.row} ${first.field}`, first.problem, {
      hint: `${problemCount} problem(s), nothing was done:\n${listed.join('\n')}`,
      data: { problems, problemCount },
    });
  }
  return rows;
}

function parseCodeSource(
  value: string | undefined,
  action: BulkAction | undefined,
  row: number,
  codes: CodeBook | undefined,
  problem: (field: string, message: string) => void,
): CodeSource | undefined {
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

/** What `*` without --limit needs: --all (scripts), or a yes on a terminal. */
export interface EveryPanelConsent {
  all?: boolean;
  confirm?: (question: string) => Promise<boolean>;
}

/** Reads and validates a change list file (with the byte and row caps above). */
export async function readChanges(file: string, options: ParseOptions & { everyPanel?: EveryPanelConsent; drivers: DriverRegistry }): Promise<ChangeRow[]> {
  let content: string;
  try {
    content = await readTextBounded(file, CHANGES_MAX_BYTES, 'change list');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { code: 'E_INVALID' });
  }
  const namelessDrivers = new Set<string>();
  for (const driver of new Set(options.targets.map((t) => t.driver))) {
    if ((await options.drivers.load(driver)).describe().userNames === false) namelessDrivers.add(driver);
  }
  const rows = parseChanges(readRecords(content, file), { namelessDrivers, ...options });
  // The CLI always says how consent is given; a library caller without `everyPanel` has decided already.
  if (options.everyPanel) await requireEveryPanelConsent(rows, options.targets.length, options.everyPanel);
  return rows;
}

/**
 * `*` with no --limit reaches every panel of the inventory: a slip that big is said out loud
 * and needs a yes on a terminal, or --all in a script; otherwise exit 2, nothing planned.
 */
export async function requireEveryPanelConsent(rows: readonly ChangeRow[], panelCount: number, consent: EveryPanelConsent): Promise<void> {
  const every = rows.filter((r) => r.everyPanel).map((r) => r.row);
  if (!every.length || consent.all) return;
  const what = `row${every.length > 1 ? 's' : ''} ${every.join(', ')} select${every.length > 1 ? '' : 's'} every panel in the inventory (*, ${panelCount} panels) with no --limit`;
  if (consent.confirm) {
    if (await consent.confirm(`${what}. Plan for all of them?`)) return;
    throw new UsageError(`${what}; not planned`, { code: 'E_EVERY_PANEL', hint: 'narrow it with --limit SELECTOR (e.g. site=oslo), or name the panels' });
  }
  throw new UsageError(what, { code: 'E_EVERY_PANEL', hint: 'give --all if every panel is meant, or narrow it with --limit SELECTOR (e.g. site=oslo)' });
}
