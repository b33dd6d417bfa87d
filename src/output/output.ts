import { PLAIN, type Palette } from './palette.js';
import { renderTable, type Column } from './table.js';
import { printableJson, printableMessage } from './printable.js';
import type { PanelctlError } from '../core/errors.js';

export type OutputFormat = 'table' | 'json' | 'ndjson';

/** Where an Output writes: the process's own streams unless a test gives others. */
export interface OutputStreams {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/**
 * Everything panelctl prints goes through here. Results go to stdout in the format asked
 * for; notes, progress and errors go to stderr, so `-o json | jq` always gets clean JSON.
 * Colour only on a terminal, never with NO_COLOR or --no-color.
 * Messages and tables carry outside text (names from panels, inventory fields): every line is
 * made printable here, once, keeping only panelctl's own colour codes (see printable.ts).
 */
export class Output {
  readonly format: OutputFormat;
  readonly color: Palette;
  readonly interactive: boolean;
  /** The streams themselves, for libraries that draw on a terminal (spinners, prompts): never written to directly. */
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  /** A line drawn on stderr without its newline (bulk's progress line): the next line written there clears it first. */
  private partialLine = false;

  /** `color`: the palette to paint with (paletteFor in palette.ts), or false for none. */
  constructor(options: { format: OutputFormat; color: Palette | false; interactive: boolean; streams?: OutputStreams }) {
    this.format = options.format;
    this.color = options.color || PLAIN;
    this.interactive = options.interactive;
    this.stdout = options.streams?.stdout ?? process.stdout;
    this.stderr = options.streams?.stderr ?? process.stderr;
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
      this.stdout.write(`${printableJson(JSON.stringify(document, null, 2))}\n`);
    } else if (this.format === 'ndjson') {
      for (const row of ndjsonRows ?? rows ?? [document]) this.stdout.write(`${printableJson(JSON.stringify(row))}\n`);
    } else if (rows && columns) {
      this.stdout.write(rows.length ? `${renderTable(rows, columns, { header: (s) => this.color.bold(s) })}\n` : `${this.color.dim('(none)')}\n`);
    }
  }

  /** One line of human text on stdout (table mode only): "Added user 5 (Anna) on demo". */
  say(text: string): void {
    if (this.format === 'table') this.stdout.write(`${this.printable(text)}\n`);
  }

  /** A line on stdout in every format (the shell's screens), made printable. */
  print(text: string): void {
    this.stdout.write(`${this.printable(text)}\n`);
  }

  /** A line for people on stderr in every format (a simulator's address, a countdown, "Bye."), made printable. */
  notice(text: string): void {
    this.line(this.printable(text));
  }

  /** One --debug trace line on stderr; printable, since a trace can quote what a panel sent (LCD text). */
  trace(direction: string, text: string): void {
    this.line(this.printable(this.color.dim(`[${direction}] ${text}`)));
  }

  /**
   * Terminal control on stderr: `\r\x1b[2K` to redraw a progress line, cursor-up to clear rows. `control` is
   * panelctl's own escape sequence; `text` after it is made printable like any other line.
   */
  terminal(control: string, text = ''): void {
    this.stderr.write(control + this.printable(text));
    this.partialLine = text !== '';
  }

  /** A whole line on stderr, below a partial line (a progress line) cleared first: never glued onto its end. */
  private line(text: string): void {
    if (this.partialLine) {
      this.stderr.write('\r\x1b[2K');
      this.partialLine = false;
    }
    this.stderr.write(`${text}\n`);
  }

  /** Text as it may reach a terminal: outside text escaped, panelctl's own colours kept when colour is on. */
  printable(text: string): string {
    return printableMessage(text, this.color.level > 0);
  }

  /** A note for people on stderr; machine formats stay quiet unless it is a warning. */
  note(text: string): void {
    if (this.format === 'table') this.line(this.printable(this.color.dim(text)));
  }

  warn(text: string): void {
    this.line(this.printable(this.color.yellow(`warning: ${text}`)));
  }

  /** One NDJSON event on stdout (progress streams). */
  event(value: Record<string, unknown>): void {
    if (this.format === 'ndjson') this.stdout.write(`${printableJson(JSON.stringify(value))}\n`);
  }

  error(error: PanelctlError): void {
    if (this.machine) {
      this.line(printableJson(JSON.stringify({ error: error.toJSON() })));
      return;
    }
    this.line(`${this.color.red('error:')} ${printableMessage(error.message, false)}`);
    if (error.hint) this.line(this.color.dim(`hint: ${printableMessage(error.hint, false)}`));
  }
}

export function colorWanted(flag: boolean | undefined, stream: NodeJS.WriteStream = process.stdout): boolean {
  if (flag === false) return false;
  if ('NO_COLOR' in process.env && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
}
