import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../core/errors.js';

/**
 * Files that may hold secrets or security-relevant state are created 0600 inside 0700
 * directories, and refused when someone loosened them, as ssh does with its keys.
 */

const isWindows = process.platform === 'win32';

export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (isWindows) return;
  const stat = await fs.stat(dir);
  if (stat.mode & 0o077) {
    throw new UsageError(`directory ${dir} is accessible by other users (mode ${octal(stat.mode)}); panelctl keeps it private`, {
      code: 'E_PERMISSIONS',
      hint: `run: chmod 700 ${dir}`,
    });
  }
}

/** Refuses a file readable or writable by group or others. */
export async function assertPrivateFile(file: string, what = 'file'): Promise<void> {
  if (isWindows) return;
  const stat = await fs.stat(file);
  if (stat.mode & 0o077) {
    throw new UsageError(`${what} ${file} is accessible by other users (mode ${octal(stat.mode)}); refusing to use it`, {
      code: 'E_PERMISSIONS',
      hint: `run: chmod 600 ${file}`,
    });
  }
}

/** Writes atomically (temp file + rename) with mode 0600. */
export async function writePrivateFile(file: string, data: string): Promise<void> {
  await ensurePrivateDir(path.dirname(file));
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(temp, data, { mode: 0o600 });
  await fs.rename(temp, file);
}

/** Appends a line to a 0600 file, creating it if needed. */
export async function appendPrivateLine(file: string, line: string): Promise<void> {
  await ensurePrivateDir(path.dirname(file));
  const handle = await fs.open(file, 'a', 0o600);
  try {
    await handle.appendFile(line.endsWith('\n') ? line : `${line}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates a new file only for the owner; fails if it exists, so nothing is silently overwritten. */
export async function createPrivateFileExclusive(file: string): Promise<fs.FileHandle> {
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  try {
    return await fs.open(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${file} already exists; panelctl will not overwrite a codes file`, { code: 'E_EXISTS', hint: 'choose a new file name' });
    }
    throw error;
  }
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}
