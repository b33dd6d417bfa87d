import { stripVTControlCharacters } from 'node:util';
import { spawn, type IPty } from '@lydell/node-pty';
import { BIN } from './cli.js';

/**
 * The real panelctl binary in a pseudo-terminal, driven like a person at a keyboard.
 * Reading works like `expect`: each wait searches the screen text (all output so far, ANSI
 * stripped) from where the previous wait matched, so an old prompt is never mistaken for a new one.
 */

export const KEY = { up: '\x1b[A', down: '\x1b[B', enter: '\r', ctrlC: '\x03', backspace: '\x7f' } as const;

/** The pointer inquirer draws in front of the highlighted entry of a list. */
const POINTER = '❯';

export interface TtyExit {
  exitCode: number;
  signal?: number;
}

export class TtySession {
  private raw = '';
  private from = 0;
  private readonly proc: IPty;
  private listeners = new Set<() => void>();
  readonly exited: Promise<TtyExit>;

  constructor(args: string[], env: NodeJS.ProcessEnv, size = { cols: 120, rows: 40 }) {
    // A variable set to undefined is left out (so a test can unset one of the sandbox's).
    const childEnv = Object.fromEntries(Object.entries({ TERM: 'xterm-256color', ...env }).filter(([, v]) => v !== undefined)) as Record<string, string>;
    this.proc = spawn(process.execPath, [BIN, ...args], { name: 'xterm-256color', cols: size.cols, rows: size.rows, cwd: process.cwd(), env: childEnv });
    this.proc.onData((data) => {
      this.raw += data;
      for (const listener of this.listeners) listener();
    });
    this.exited = new Promise((resolve) => this.proc.onExit((e) => resolve({ exitCode: e.exitCode, signal: e.signal || undefined })));
  }

  /** Everything the program wrote, escape sequences included. */
  get output(): string {
    return this.raw;
  }

  /** Everything shown so far, without colours and cursor movements. */
  get text(): string {
    return stripVTControlCharacters(this.raw);
  }

  /** The last lines of the screen text, for failure messages. */
  tail(lines = 25): string {
    return this.text.split(/\r?\n/).slice(-lines).join('\n');
  }

  /** Resolves when `test` passes on new output, or fails after `timeoutMs` with the last screen. */
  private waitUntil<T>(test: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = test();
        if (value === undefined) return false;
        cleanup();
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- last screen ---\n${this.tail()}\n-------------------`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = () => void check();
      this.listeners.add(listener);
      check();
    });
  }

  /** Waits for `pattern` after the previous match; moves past it. */
  async expect(pattern: RegExp, timeoutMs = 8000): Promise<RegExpExecArray> {
    const flags = pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`;
    const re = new RegExp(pattern.source, flags);
    return this.waitUntil(
      () => {
        re.lastIndex = this.from;
        const match = re.exec(this.text);
        if (!match) return undefined;
        this.from = match.index + match[0].length;
        return match;
      },
      String(pattern),
      timeoutMs,
    );
  }

  send(keys: string): void {
    this.proc.write(keys);
  }

  /** Types a line and presses Enter. */
  line(text: string): void {
    this.send(text + KEY.enter);
  }

  /**
   * Waits for the list asking `question` (a menu or type-ahead results), moves the highlight
   * down until its line matches `entry`, then presses Enter. Waiting for the question first
   * matters: a list that has just been answered can redraw once more, and a key sent to it is lost.
   */
  async pick(question: RegExp, entry: RegExp, maxMoves = 30): Promise<void> {
    await this.expect(question);
    const highlighted = () => {
      const text = this.text;
      const at = text.lastIndexOf(POINTER);
      if (at < this.from) return undefined;
      // Only a whole line counts: output can arrive cut in the middle of one.
      const rest = text.slice(at + 1);
      const end = rest.search(/\r?\n/);
      return end < 0 ? undefined : { at, line: rest.slice(0, end) };
    };
    let current = await this.waitUntil(highlighted, `a highlighted entry (to pick ${entry})`, 8000);
    for (let moves = 0; !entry.test(current.line); moves++) {
      if (moves >= maxMoves) throw new Error(`no entry matching ${entry} after ${maxMoves} moves\n--- last screen ---\n${this.tail()}`);
      const before = current.at;
      this.send(KEY.down);
      current = await this.waitUntil(
        () => {
          const next = highlighted();
          return next && next.at > before ? next : undefined;
        },
        `the highlight to move (looking for ${entry}; at "${current.line.trim()}")`,
        3000,
      );
    }
    this.from = current.at;
    this.send(KEY.enter);
  }

  async exit(timeoutMs = 8000): Promise<TtyExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`panelctl did not exit within ${timeoutMs} ms\n--- last screen ---\n${this.tail()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    try {
      this.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
