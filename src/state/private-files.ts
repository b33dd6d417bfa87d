import { mkdirSync, statSync, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../core/errors.js';
import { callerUid, octal, openPrivateAppend, readPrivateFile, replacePrivateFile } from './safe-file.js';

/**
 * panelctl's own state (audit log, leases, journals, the state key) lives in 0700 directories
 * owned by the caller, in 0600 files, refused when someone loosened them, as ssh does with its
 * keys. The files themselves are opened and checked through safe-file.ts (on the descriptor).
 */

const isWindows = process.platform === 'win32';

export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (isWindows) return;
  checkPrivateDir(dir, await fs.stat(dir));
}

/**
 * As ensurePrivateDir, in one synchronous stat when the directory exists: for a path taken per
 * panel in bulk (the work locks), where a thread-pool round trip costs more than the call itself.
 */
export function ensurePrivateDirNow(dir: string): void {
  let stat = statSync(dir, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) {
    // Missing: made as ensurePrivateDir makes it. Not a directory: mkdir fails as it does there.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    stat = statSync(dir);
  }
  if (isWindows) return;
  checkPrivateDir(dir, stat);
}

function checkPrivateDir(dir: string, stat: Stats): void {
  if (stat.uid !== callerUid()) {
    throw new UsageError(`directory ${dir} belongs to uid ${stat.uid}, not to you (uid ${callerUid()}); panelctl keeps its state in a directory of its own`, {
      code: 'E_PERMISSIONS',
      hint: 'set PANELCTL_STATE_DIR to a directory of your own',
    });
  }
  if (stat.mode & 0o077) {
    throw new UsageError(`directory ${dir} is accessible by other users (mode ${octal(stat.mode)}); panelctl keeps it private`, {
      code: 'E_PERMISSIONS',
      hint: `run: chmod 700 ${dir}`,
    });
  }
}

/** Writes atomically (a new 0600 temp file, fsync'd, renamed over the name). */
export async function writePrivateFile(file: string, data: string, what = 'state file'): Promise<void> {
  await ensurePrivateDir(path.dirname(file));
  await replacePrivateFile(file, data, what, { directoryChecked: true });
}

/** Appends a line to a 0600 file of the caller's, creating it if needed (checked on the descriptor). */
export async function appendPrivateLine(file: string, line: string, what = 'state file'): Promise<void> {
  await ensurePrivateDir(path.dirname(file));
  const { handle } = await openPrivateAppend(file, what);
  try {
    await handle.appendFile(line.endsWith('\n') ? line : `${line}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates the file if needed and checks it (yours, 0600, regular, one link) without writing. */
export async function touchPrivateFile(file: string, what = 'state file'): Promise<void> {
  await ensurePrivateDir(path.dirname(file));
  const { handle } = await openPrivateAppend(file, what);
  await handle.close();
}

/** Reads a private state file (yours, no group/other bits, no link); undefined when absent. */
export async function readPrivateStateFile(file: string, what = 'state file', maxBytes?: number): Promise<string | undefined> {
  try {
    return await readPrivateFile(file, what, maxBytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
