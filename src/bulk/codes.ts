import fs from 'node:fs/promises';
import { parse as parseCsv } from 'csv-parse/sync';
import { UsageError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { randomBytes } from 'node:crypto';
import { assertPrivateFile } from '../state/private-files.js';

/**
 * Where bulk codes live, since the plan and the journal never hold one:
 * - CodeBook: the user's own codes file (--codes, 0600 or refused). A change row with
 *   `codes:COLUMN` takes the value in that column of the codes file's row with the same
 *   number (rows counted from 1 after the header). The plan stores only column and row.
 * - GeneratedCodes: the --codes-out file. A generated code is written there (fsync'd) BEFORE
 *   it is sent to the panel, so a run killed mid-write can be resumed with the same code and
 *   can prove whether it landed. At the end the file is rewritten with a status per line.
 */

export class CodeBook {
  private constructor(
    readonly file: string,
    private readonly columns: Set<string>,
    private readonly rows: Array<Record<string, string>>,
  ) {}

  static async load(file: string): Promise<CodeBook> {
    try {
      await assertPrivateFile(file, 'codes file');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`--codes: ${file} does not exist`, { code: 'E_INVALID' });
      throw error;
    }
    const text = await fs.readFile(file, 'utf8');
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

export type DeliveryStatus = 'pending' | 'applied' | 'unconfirmed';

interface GeneratedLine {
  panel: string;
  slot: number;
  name: string;
  code: Secret;
  status: DeliveryStatus;
}

const HEADER = 'panel,slot,name,code,status';

export class GeneratedCodes {
  private readonly lines = new Map<string, GeneratedLine>();
  private chain: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  /**
   * Opens the --codes-out file. A fresh run refuses an existing file (never overwrite codes
   * someone may still need); a resumed run reads it back to reuse codes already drawn.
   */
  static async open(file: string, resume: boolean): Promise<GeneratedCodes> {
    const book = new GeneratedCodes(file);
    let text: string | undefined;
    try {
      await assertPrivateFile(file, 'codes file');
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined && !resume && text.trim()) {
      throw new UsageError(`${file} already exists; panelctl will not overwrite a codes file`, { code: 'E_EXISTS', hint: 'choose a new file name, or add --resume to continue the run that wrote it' });
    }
    for (const line of (text ?? '').split('\n').slice(1)) {
      const [panel, slot, name, code, status] = line.split(',');
      if (!panel || !code) continue;
      book.lines.set(`${panel}#${slot}`, { panel, slot: Number(slot), name, code: new Secret(code, 'generated code'), status: status as DeliveryStatus });
    }
    if (text === undefined) await replaceOwnerOnly(file, `${HEADER}\n`);
    return book;
  }

  /** A code drawn by an earlier run for this slot that may be on the panel already. */
  earlier(panel: string, slot: number): Secret | undefined {
    const line = this.lines.get(`${panel}#${slot}`);
    return line && line.status !== 'applied' ? line.code : undefined;
  }

  /** Records a code before it is sent, durably (appends are serialised and fsync'd). */
  async pending(panel: string, slot: number, name: string | undefined, code: Secret): Promise<void> {
    const entry: GeneratedLine = { panel, slot, name: (name ?? '').replaceAll(',', ' '), code, status: 'pending' };
    this.lines.set(`${panel}#${slot}`, entry);
    const write = this.chain.then(async () => {
      const handle = await fs.open(this.file, 'a', 0o600);
      try {
        await handle.appendFile(`${entry.panel},${entry.slot},${entry.name},${code.reveal()},pending\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
    this.chain = write.catch(() => undefined);
    await write;
  }

  mark(panel: string, slot: number, status: DeliveryStatus): void {
    const line = this.lines.get(`${panel}#${slot}`);
    if (line) line.status = status;
  }

  /**
   * Rewrites the file with one line per slot: 'applied' (verified on the panel) or
   * 'unconfirmed' (sent, but not proven to have landed). Codes that were never sent, or proven
   * not to have landed, were dropped: they are not in force anywhere.
   */
  async finish(): Promise<{ applied: number; unconfirmed: number }> {
    await this.chain;
    // A line still pending was drawn by an earlier run that this one never got back to.
    const kept = [...this.lines.values()].map((l) => (l.status === 'pending' ? { ...l, status: 'unconfirmed' as const } : l));
    await replaceOwnerOnly(this.file, `${HEADER}\n${kept.map((l) => `${l.panel},${l.slot},${l.name},${l.code.reveal()},${l.status}\n`).join('')}`);
    return { applied: kept.filter((l) => l.status === 'applied').length, unconfirmed: kept.filter((l) => l.status === 'unconfirmed').length };
  }

  drop(panel: string, slot: number): void {
    this.lines.delete(`${panel}#${slot}`);
  }
}

/** Writes a whole file readable only by its owner, atomically (temp file, then rename). */
async function replaceOwnerOnly(file: string, text: string): Promise<void> {
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(temp, text, { mode: 0o600, flag: 'wx' });
  await fs.rename(temp, file);
}
