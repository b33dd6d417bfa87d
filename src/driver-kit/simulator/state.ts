import fs from 'node:fs';
import path from 'node:path';

/**
 * A simulated panel's memory as a JSON file (`panelctl sim --state FILE`). Saved atomically
 * (temporary file, then rename), so a simulator killed mid-save leaves the previous state,
 * never half a file; 0600 in a 0700 directory, since the state holds the panel's codes.
 */

/** The saved state, or `fresh()` when there is no file or `accept` says it belongs to another device. */
export function loadState<T>(file: string | undefined, fresh: () => T, accept: (saved: unknown) => boolean = () => true): T {
  if (!file || !fs.existsSync(file)) return fresh();
  const saved: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  return accept(saved) ? (saved as T) : fresh();
}

/** Writes the state atomically; does nothing without a file. `indent` keeps each simulator's file layout. */
export function saveState(file: string | undefined, state: unknown, indent = 2): void {
  if (!file) return;
  const text = JSON.stringify(state, null, indent);
  // A simulator saves when it starts and stops: a run that changed nothing (a demo `users list`)
  // would write the same text again: a directory check, a write and a rename, twice, for nothing.
  if (holds(file, text)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.tmp`;
  fs.writeFileSync(temp, text, { mode: 0o600 });
  fs.renameSync(temp, file);
}

/** Whether `file` is a 0600 regular file holding exactly `text` (a loosened mode is written again, as 0600). */
function holds(file: string, text: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || (stat.mode & 0o777) !== 0o600 || stat.size !== Buffer.byteLength(text)) return false;
    return fs.readFileSync(fd, 'utf8') === text;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
