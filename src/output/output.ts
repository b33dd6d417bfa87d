import { Chalk, type ChalkInstance } from 'chalk';
import { renderTable, type Column } from './table.js';
import { printableJson, printableMessage } from './printable.js';
import type { PanelctlError } from '../core/errors.js';

export type OutputFormat = 'table' | 'json' | 'ndjson';

/**
 * Everything panelctl prints goes through here. Results go to stdout in the format asked
 * for; notes, progress and errors go to stderr, so `-o json | jq` always gets clean JSON.
 * Colour only on a terminal, never with NO_COLOR or --no-color.
 * Messages and tables carry outside text (names from panels, inventory fields): every line is
 * made printable here, once, keeping only panelctl's own colour codes (see printable.ts).
 */
export class Output {
  readonly format: OutputFormat;
  readonly color: ChalkInstance;
  readonly interactive: boolean;

  constructor(options: { format: OutputFormat; color: boolean; interactive: boolean }) {
    this.format = options.format;
    this.color = new Chalk({ level: options.color ? 1 : 0 });
    this.interactive = options.interactive;
  }

  get machine(): boolean {
    return this.format !== 'table';
  }

  /** A result: a table for people, the given document for machines (ndjson: one line per row). */
  result<T>(
    document: Record<string, unknown>,
    rows: readonly T[] | undefined,
    columns: readonly Column<T>[] | undefined,
    ndjsonRows?: readonly unknown[],
  ): void {
    if (this.format === 'json') {
      process.stdout.write(`${printableJson(JSON.stringify(document, null, 2))}\n`);
    } else if (this.format === 'ndjson') {
      for (const row of ndjsonRows ?? rows ?? [document]) process.stdout.write(`${printableJson(JSON.stringify(row))}\n`);
    } else if (rows && columns) {
      process.stdout.write(rows.length ? `${renderTable(rows, columns, { header: (s) => this.color.bold(s) })}\n` : `${this.color.dim('(none)')}\n`);
    }
  }

  /** One line of human text on stdout (table mode only): "Added user 5 (Anna) on demo". */
  say(text: string): void {
    if (this.format === 'table') process.stdout.write(`${this.printable(text)}\n`);
  }

  /** Text as it may reach a terminal: outside text escaped, panelctl's own colours kept when colour is on. */
  printable(text: string): string {
    return printableMessage(text, this.color.level > 0);
  }

  /** A note for people on stderr; machine formats stay quiet unless it is a warning. */
  note(text: string): void {
    if (this.format === 'table') process.stderr.write(`${this.printable(this.color.dim(text))}\n`);
  }

  warn(text: string): void {
    process.stderr.write(`${this.printable(this.color.yellow(`warning: ${text}`))}\n`);
  }

  /** One NDJSON event on stdout (progress streams). */
  event(value: Record<string, unknown>): void {
    if (this.format === 'ndjson') process.stdout.write(`${printableJson(JSON.stringify(value))}\n`);
  }

  error(error: PanelctlError): void {
    if (this.machine) {
      process.stderr.write(`${printableJson(JSON.stringify({ error: error.toJSON() }))}\n`);
      return;
    }
    process.stderr.write(`${this.color.red('error:')} ${printableMessage(error.message, false)}\n`);
    if (error.hint) process.stderr.write(`${this.color.dim(`hint: ${printableMessage(error.hint, false)}`)}\n`);
  }
}

export function colorWanted(flag: boolean | undefined, stream: NodeJS.WriteStream = process.stdout): boolean {
  if (flag === false) return false;
  if ('NO_COLOR' in process.env && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
}
