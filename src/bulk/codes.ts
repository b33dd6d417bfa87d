import fs, { type FileHandle } from 'node:fs/promises';
import { parse as parseCsv } from 'csv-parse/sync';
import { UsageError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { openPrivateAppend, readOpenFile, readPrivateFile, replacePrivateFile } from '../state/safe-file.js';
import { csvRow, restoreCell } from './csv-cells.js';

/**
 * Where bulk codes live, since the plan and the journal never hold one:
 * - CodeBook: the user's own codes file (--codes, 0600 or refused). A change row with
 *   `codes:COLUMN` takes the value in that column of the codes file's row with the same
 *   number (rows counted from 1 after the header). The plan stores only column and row.
 * - GeneratedCodes: the file generated codes go to (bulk and users --codes-out). A
 *   generated code is written there (fsync'd) BEFORE it is sent to the panel, so a run killed
 *   mid-write can be resumed with the same code and can prove whether it landed. At the end the
 *   file is rewritten with a status per line.
 * Both files are opened once and checked on the descriptor (src/state/safe-file.ts).
 */

/** A codes file holds a few thousand short rows; this bounds what is read into memory. */
const MAX_CODES_FILE_BYTES = 16 << 20;

export class CodeBook {
  private constructor(
    readonly file: string,
    private readonly columns: Set<string>,
    private readonly rows: Array<Record<string, string>>,
  ) {}

  static async load(file: string): Promise<CodeBook> {
    let text: string;
    try {
      text = await readPrivateFile(file, 'codes file', MAX_CODES_FILE_BYTES);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`--codes: ${file} does not exist`, { code: 'E_INVALID' });
      throw error;
    }
    let rows: Array<Record<string, string>>;
    try {
      rows = parseCsv(text, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, trim: true });
    } catch (error) {
      // csv-parse messages name lines and columns, not cell values.
      throw new UsageError(`--codes: ${file} is not valid CSV (${(error as { code?: string }).code ?? 'parse error'})`, { code: 'E_INVALID' });
    }
    return new CodeBook(file, new Set(Object.keys(rows[0] ?? {})), rows);
  }

  /** 'ok', or why the reference does not resolve (never showing a value). */
  lookup(column: string, row: number): string {
    if (!this.columns.has(column)) return `codes file has no column "${column}" (it has: ${[...this.columns].join(', ')})`;
    const value = this.rows[row - 1]?.[column];
    if (!value) return `codes file has no value in column "${column}" on row ${row}`;
    return 'ok';
  }

  get(column: string, row: number): Secret {
    const value = this.rows[row - 1]?.[column];
    if (!value) throw new UsageError(`codes file ${this.file}: no value in column "${column}" on row ${row}`, { code: 'E_INVALID' });
    return new Secret(value, 'new code');
  }
}

/** The one code a change list's `stdin` rows use, read from standard input (first line). */
export async function readStdinCode(stream: NodeJS.ReadableStream = process.stdin): Promise<Secret> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0].trim();
  if (!line) throw new UsageError('the plan has rows with code source "stdin", but standard input was empty', { code: 'E_INVALID' });
  return new Secret(line, 'new code');
}

/** superseded: a newer code for the same slot was applied later (files appended to across runs). */
export type DeliveryStatus = 'pending' | 'applied' | 'unconfirmed' | 'superseded';

export interface GeneratedLine {
  panel: string;
  /** Unknown until the panel picks it (users add --next). */
  slot?: number;
  name: string;
  code: Secret;
  status: DeliveryStatus;
}

const HEADER = ['panel', 'slot', 'name', 'code', 'status'];

/** What to do when the file already holds codes. */
export type ExistingCodes = 'refuse' | 'resume' | 'append';

export class GeneratedCodes {
  private readonly lines: GeneratedLine[] = [];
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  private recorded = false;

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    private readonly created: boolean,
  ) {}

  /**
   * Opens (or creates) the codes file and checks it on its descriptor, before anything is sent:
   * `refuse` (a fresh bulk run: never mix codes into a file someone may still need), `resume`
   * (read it back to reuse codes already drawn), `append` (users: one file for many runs).
   */
  static async open(file: string, existingOrResume: ExistingCodes | boolean): Promise<GeneratedCodes> {
    const existing = existingOrResume === true ? 'resume' : existingOrResume === false ? 'refuse' : existingOrResume;
    const { handle, created } = await openPrivateAppend(file, 'codes file');
    const book = new GeneratedCodes(file, handle, created);
    try {
      const text = created ? '' : await readOpenFile(handle, file, 'codes file', MAX_CODES_FILE_BYTES);
      book.parse(text);
      // A file with only the header (a run stopped before its first code) may be used again.
      if (book.lines.length && existing === 'refuse') {
        throw new UsageError(`${file} already exists; panelctl will not overwrite a codes file`, {
          code: 'E_EXISTS',
          hint: 'choose a new file name, or add --resume to continue the run that wrote it',
        });
      }
      if (!text.trim()) await book.appendRows([HEADER]);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return book;
  }

  /** Reads rows back: this format (header + status), or the older users format (panel,slot,name,code). */
  private parse(text: string): void {
    let rows: string[][];
    try {
      rows = parseCsv(text, { relax_column_count: true, skip_empty_lines: true });
    } catch (error) {
      throw new UsageError(`codes file ${this.file} is not valid CSV (${(error as { code?: string }).code ?? 'parse error'}); panelctl will not add to it`, {
        code: 'E_INVALID',
        hint: 'choose a new file name',
      });
    }
    for (const raw of rows) {
      const [panel, slot, name, code, status] = raw.map(restoreCell);
      if (panel === 'panel' && code === 'code') continue;
      // The whole file is rewritten at the end: never drop lines panelctl did not write.
      if (!panel || !code || raw.length < 4 || raw.length > 5 || !/^\d*$/.test(slot)) {
        throw new UsageError(`${this.file} is not a panelctl codes file (a line has other fields); panelctl will not rewrite it`, {
          code: 'E_INVALID',
          hint: 'choose a new file name',
        });
      }
      const known: DeliveryStatus[] = ['pending', 'applied', 'unconfirmed', 'superseded'];
      // The older users format wrote a line only after the change was verified.
      const state = status === undefined ? 'applied' : known.includes(status as DeliveryStatus) ? (status as DeliveryStatus) : 'unconfirmed';
      this.remember({ panel, slot: slot ? Number(slot) : undefined, name: name ?? '', code: new Secret(code, 'generated code'), status: state });
    }
  }

  /** A repeated row for the same slot and code (a resumed run wrote it again) updates the first. */
  private remember(line: GeneratedLine): GeneratedLine {
    const last = this.last(line.panel, line.slot);
    if (last && last.code.reveal() === line.code.reveal()) {
      last.status = line.status;
      return last;
    }
    this.lines.push(line);
    return line;
  }

  private last(panel: string, slot: number | undefined): GeneratedLine | undefined {
    for (let i = this.lines.length - 1; i >= 0; i--) if (this.lines[i].panel === panel && this.lines[i].slot === slot) return this.lines[i];
    return undefined;
  }

  /** A code drawn by an earlier run for this slot that may be on the panel already. */
  earlier(panel: string, slot: number): Secret | undefined {
    const line = this.last(panel, slot);
    return line && (line.status === 'pending' || line.status === 'unconfirmed') ? line.code : undefined;
  }

  /** Records a code before it is sent, durably (appends are serialised and fsync'd); returns its line. */
  async record(panel: string, slot: number | undefined, name: string | undefined, code: Secret): Promise<GeneratedLine> {
    this.recorded = true;
    const line = this.remember({ panel, slot, name: name ?? '', code, status: 'pending' });
    await this.appendRows([[panel, slot === undefined ? '' : String(slot), line.name, code.reveal(), 'pending']]);
    return line;
  }

  /** Records a code before it is sent (bulk: the slot is known). */
  async pending(panel: string, slot: number, name: string | undefined, code: Secret): Promise<void> {
    await this.record(panel, slot, name, code);
  }

  private async appendRows(rows: string[][]): Promise<void> {
    const write = this.chain.then(async () => {
      await this.handle.appendFile(csvRow(rows));
      await this.handle.sync();
    });
    this.chain = write.catch(() => undefined);
    await write;
  }

  /** Settles one line: its status, and its slot once the panel picked it. */
  settle(line: GeneratedLine, status: DeliveryStatus, found: { slot?: number; name?: string } = {}): void {
    if (found.slot !== undefined) line.slot = found.slot;
    if (found.name && !line.name) line.name = found.name;
    line.status = status;
    if (status !== 'applied') return;
    // The code this one replaced in the same slot is no longer in force.
    for (const other of this.lines)
      if (other !== line && other.panel === line.panel && other.slot === line.slot && other.status === 'applied') other.status = 'superseded';
  }

  mark(panel: string, slot: number, status: DeliveryStatus): void {
    const line = this.last(panel, slot);
    if (line) this.settle(line, status);
  }

  /** Forgets a line whose code was proven not to have landed (it is in force nowhere). */
  forget(line: GeneratedLine): void {
    const index = this.lines.lastIndexOf(line);
    if (index >= 0) this.lines.splice(index, 1);
  }

  drop(panel: string, slot: number): void {
    const line = this.last(panel, slot);
    if (line) this.forget(line);
  }

  /**
   * Rewrites the file with one line per code: 'applied' (verified on the panel), 'unconfirmed'
   * (sent, but not proven to have landed) or 'superseded'. Codes that were never sent, or proven
   * not to have landed, were dropped: they are not in force anywhere.
   */
  async finish(): Promise<{ applied: number; unconfirmed: number }> {
    await this.chain;
    // A line still pending was drawn by a run that never got back to it.
    for (const line of this.lines) if (line.status === 'pending') line.status = 'unconfirmed';
    const rows = this.lines.map((l) => [l.panel, l.slot === undefined ? '' : String(l.slot), l.name, l.code.reveal(), l.status]);
    try {
      await replacePrivateFile(this.file, csvRow([HEADER, ...rows]), 'codes file');
    } finally {
      await this.close();
    }
    return { applied: this.lines.filter((l) => l.status === 'applied').length, unconfirmed: this.lines.filter((l) => l.status === 'unconfirmed').length };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  /**
   * Closes without a trace when nothing was recorded: a file this run created is removed, so a
   * command refused by a later check (exit 2) leaves no empty codes file behind. Its directory
   * is one others cannot write, so the name still refers to the file that was created.
   */
  async discard(): Promise<void> {
    await this.close();
    if (this.created && !this.recorded) await fs.rm(this.file, { force: true });
  }
}
