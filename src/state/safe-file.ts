import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsync,
  ftruncateSync,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  unlinkSync,
  writeSync,
} from 'node:fs';
import fs from 'node:fs/promises';
import fsNow from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { UsageError } from '../core/errors.js';

/**
 * The one way panelctl opens a file that holds a secret (codes files, secrets files, the
 * state key) or that it must be able to trust (state files). Every check runs on the OPEN
 * descriptor, never on the path before opening it, so a file swapped between check and use
 * (a symlink planted, a file replaced) is never the one read or written:
 *
 * - opened with O_NOFOLLOW: a symbolic link in the last path component is refused;
 * - new files are created with O_CREAT|O_EXCL (never an existing file, never through a link),
 *   then set to 0600 whatever the umask;
 * - fstat on the descriptor: a regular file, owned by the caller (effective uid), no group or
 *   other permission bits, and (for files written to) exactly one link, so no hard link to the
 *   file sits elsewhere;
 * - the directory a file is written in is owned by the caller or root and not writable by group
 *   or others, unless it has the sticky bit (like /tmp), where others cannot rename or remove
 *   a file they do not own. Only the directory itself is checked, not its ancestors.
 *
 * Windows has no such modes; there the checks are skipped (documented in SECURITY.md).
 */

const posix = process.platform !== 'win32';
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
/** A planted FIFO must not block the open; on a regular file O_NONBLOCK changes nothing. */
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW;

/** Asked once: every check compares against it, bulk apply a dozen times per panel (a system call each, issue 20). */
const uid = process.geteuid?.() ?? -1;
export const callerUid = (): number => uid;

export function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

/** Errors of this module: exit 2, code E_PERMISSIONS (or E_EXISTS), naming the file and the rule. */
function refuse(message: string, hint: string, code = 'E_PERMISSIONS'): UsageError {
  return new UsageError(message, { code, hint });
}

function openFailure(error: unknown, file: string, what: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  // Linux says ELOOP for O_NOFOLLOW on a link; the BSDs say EMLINK.
  if (code === 'ELOOP' || code === 'EMLINK') {
    return refuse(
      `${what} ${file} is a symbolic link; panelctl does not follow links for files that hold secrets`,
      'give the path of the file itself (not a link to it)',
    );
  }
  if (code === 'EEXIST') return refuse(`${what} ${file} already exists; panelctl will not overwrite it`, 'choose a new file name', 'E_EXISTS');
  if (code === 'EACCES' || code === 'EPERM') return refuse(`${what} ${file}: permission denied`, 'check the file and its directory belong to you');
  return error;
}

export interface FileRules {
  /** Files written to: exactly one link and mode exactly 0600. */
  forWriting?: boolean;
}

/** The checks on an open file's fstat. Throws naming the first rule broken. */
export function checkOwnedPrivate(stat: Stats, file: string, what: string, rules: FileRules = {}): void {
  if (!posix) return;
  if (!stat.isFile()) throw refuse(`${what} ${file} is not a regular file`, 'give the path of an ordinary file');
  const me = callerUid();
  if (stat.uid !== me) {
    throw refuse(
      `${what} ${file} belongs to uid ${stat.uid}, not to you (uid ${me}); refusing to use it`,
      `use a file of your own (as its owner: chown ${me} ${file})`,
    );
  }
  if (stat.mode & 0o077) {
    throw refuse(`${what} ${file} is accessible by other users (mode ${octal(stat.mode)}); refusing to use it`, `run: chmod 600 ${file}`);
  }
  if (!rules.forWriting) return;
  if ((stat.mode & 0o777) !== 0o600) throw refuse(`${what} ${file} has mode ${octal(stat.mode)}, not 0600`, `run: chmod 600 ${file}`);
  if (stat.nlink !== 1) {
    throw refuse(`${what} ${file} has ${stat.nlink} hard links; another name could reach what panelctl writes into it`, 'choose a new file name');
  }
}

/**
 * The directory rule for files panelctl writes secrets into: owned by the caller or root, and
 * not writable by group or others unless sticky. Creates it (0700) when missing.
 */
export async function checkWriteDirectory(dir: string, what: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (!posix) return;
  const stat = await fs.stat(dir);
  if (!stat.isDirectory()) throw refuse(`${dir} (the directory for ${what}) is not a directory`, 'choose another place for the file');
  const me = callerUid();
  if (stat.uid !== me && stat.uid !== 0) {
    throw refuse(
      `directory ${dir} belongs to uid ${stat.uid}, not to you (uid ${me}) or root; its owner could replace ${what}`,
      'write it into a directory of your own',
    );
  }
  if (stat.mode & 0o022 && !(stat.mode & 0o1000)) {
    throw refuse(
      `directory ${dir} is writable by other users (mode ${octal(stat.mode)}); they could replace or redirect ${what}`,
      `write it into a directory only you can write (e.g. mkdir -m 700 ~/codes), or run: chmod go-w ${dir}`,
    );
  }
}

/**
 * Reads a whole secret file from one open descriptor: O_NOFOLLOW, then fstat (regular, yours,
 * no group/other bits), then read from that same descriptor. ENOENT is passed through for the
 * caller to word. Refuses files bigger than `maxBytes`.
 */
export async function readPrivateFile(file: string, what: string, maxBytes = 1 << 20): Promise<string> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    throw openFailure(error, file, what);
  }
  try {
    const stat = await handle.stat();
    checkOwnedPrivate(stat, file, what);
    if (stat.size > maxBytes) throw new UsageError(`${what} ${file} is ${stat.size} bytes; the limit is ${maxBytes}`, { code: 'E_TOO_BIG' });
    return await readAllFrom(handle, maxBytes, file, what);
  } finally {
    await handle.close();
  }
}

async function readAllFrom(handle: fs.FileHandle, maxBytes: number, file: string, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, total);
    if (bytesRead === 0) break;
    total += bytesRead;
    if (total > maxBytes) throw new UsageError(`${what} ${file} is larger than the limit of ${maxBytes} bytes`, { code: 'E_TOO_BIG' });
    chunks.push(buffer.subarray(0, bytesRead));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Creates a new file 0600 for the caller: O_CREAT|O_EXCL|O_NOFOLLOW in a checked directory. */
export async function createPrivateFile(file: string, what: string): Promise<fs.FileHandle> {
  await checkWriteDirectory(path.dirname(path.resolve(file)), what);
  return createInCheckedDirectory(file, what);
}

async function createInCheckedDirectory(file: string, what: string): Promise<fs.FileHandle> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, CREATE_NEW, 0o600);
  } catch (error) {
    throw openFailure(error, file, what);
  }
  try {
    if (posix) await handle.chmod(0o600); // a umask like 0277 would have left it 0400
    checkOwnedPrivate(await handle.stat(), file, what, { forWriting: true });
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Opens a file to append to, creating it (as createPrivateFile) when absent. An existing file
 * is opened O_APPEND|O_NOFOLLOW for reading and appending and must pass every check on its
 * descriptor: a regular file of yours, mode 0600, one link.
 */
export async function openPrivateAppend(file: string, what: string): Promise<{ handle: fs.FileHandle; created: boolean }> {
  await checkWriteDirectory(path.dirname(path.resolve(file)), what);
  try {
    return { handle: await createInCheckedDirectory(file, what), created: true };
  } catch (error) {
    if ((error as { code?: string }).code !== 'E_EXISTS') throw error;
  }
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDWR | constants.O_APPEND | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    throw openFailure(error, file, what);
  }
  try {
    checkOwnedPrivate(await handle.stat(), file, what, { forWriting: true });
    return { handle, created: false };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Everything in an open file, read from the descriptor (for files opened by openPrivateAppend). */
export async function readOpenFile(handle: fs.FileHandle, file: string, what: string, maxBytes = 64 << 20): Promise<string> {
  return readAllFrom(handle, maxBytes, file, what);
}

/**
 * Replaces a file's whole content atomically: a new temp file (created as createPrivateFile, in
 * the same checked directory) is written and fsync'd, then renamed over the name. rename()
 * replaces a link planted at the name instead of following it.
 */
export async function replacePrivateFile(file: string, text: string, what: string, options: { directoryChecked?: boolean } = {}): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  if (!options.directoryChecked) await checkWriteDirectory(dir, what);
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await createInCheckedDirectory(temp, what);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await fs.rename(temp, file);
  await syncDirectory(dir);
}

/** Makes a rename durable (POSIX: the directory entry lives in the directory). */
async function syncDirectory(dir: string): Promise<void> {
  if (!posix) return;
  const handle = await fs.open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } catch {
    // some file systems refuse fsync on a directory; the rename itself has happened
  } finally {
    await handle.close();
  }
}

/*
 * Synchronous twins of the functions above, for the audit log, which every bulk step checks and
 * appends to (issue 20): the same opens, the same checks on the open descriptor, made as direct
 * system calls. Through the thread pool each of these small calls cost a promise and a thread
 * round trip (30-40 µs of CPU, more with 64 panels at once), more than the call itself; a few
 * dozen per step made the audit the engine's largest cost. The fsyncs stay asynchronous: they
 * wait for the disk.
 */

const fsyncFd = promisify(fsync);

/** readPrivateFile, synchronously. */
export function readPrivateFileNow(file: string, what: string, maxBytes = 1 << 20): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    throw openFailure(error, file, what);
  }
  try {
    const stat = fstatSync(fd);
    checkOwnedPrivate(stat, file, what);
    if (stat.size > maxBytes) throw new UsageError(`${what} ${file} is ${stat.size} bytes; the limit is ${maxBytes}`, { code: 'E_TOO_BIG' });
    const data = readFileSync(fd);
    if (data.length > maxBytes) throw new UsageError(`${what} ${file} is larger than the limit of ${maxBytes} bytes`, { code: 'E_TOO_BIG' });
    return data.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * The checks openPrivateAppendNow makes, without opening the file: for a check ahead of a write
 * that opens and checks it again (the audit log before each bulk step), one stat instead of an
 * open, a stat and a close. False when there is no such file.
 */
export function checkPrivateFileNow(file: string, what: string): boolean {
  const stat = lstatSync(file, { throwIfNoEntry: false });
  if (!stat) return false;
  if (stat.isSymbolicLink()) throw openFailure(Object.assign(new Error(`ELOOP: ${file}`), { code: 'ELOOP' }), file, what);
  checkOwnedPrivate(stat, file, what, { forWriting: true });
  return true;
}

/**
 * openPrivateAppend for a file that exists, in a directory the caller checked (ensurePrivateDir),
 * synchronously: its descriptor, checked, or undefined when there is no such file yet.
 */
export function openPrivateAppendNow(file: string, what: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDWR | constants.O_APPEND | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw openFailure(error, file, what);
  }
  try {
    checkOwnedPrivate(fstatSync(fd), file, what, { forWriting: true });
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * Appends all of `text` to a descriptor opened for appending (in the page cache; not yet on disk): a write to a file
 * may take fewer bytes than asked, so it goes on from where the last one stopped. Through `fs` as it is at the call,
 * so a test can cut a write short or fail it.
 */
export function appendNow(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; ) at += fsNow.writeSync(fd, bytes, at);
}

/** Waits until everything written to a descriptor is on disk (through `fs` as it is at the call, so a test can watch it). */
export function syncNow(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsNow.fsync(fd, (error) => (error ? reject(error) : resolve())));
}

/**
 * replacePrivateFile in a directory the caller checked, its small calls made synchronously.
 * `after`: the new content must not take the name before this has settled (the audit head is
 * renamed into place only once the log lines it names are on disk); its fsync and the new
 * content's run at the same time, and if it fails, the file keeps its old content.
 * `slots`: for a file rewritten over and over (the audit head after every batch, a panel's
 * contact record after every session): the new content goes into a slot file instead of a new
 * temp file (openFreeSlot says why).
 */
export async function replacePrivateFileNow(file: string, text: string, what: string, options: { after?: Promise<void>; slots?: boolean } = {}): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const after = options.after ?? Promise.resolve();
  let slot: { fd: number; path: string; size: number } | undefined;
  let temp = file;
  let fd: number;
  try {
    // Not on Windows, where link counts are not checked (see the top): a temp file there, as before.
    slot = options.slots && posix ? openFreeSlot(file, what) : undefined;
    temp = slot?.path ?? `${file}.${randomBytes(6).toString('hex')}.tmp`;
    fd = slot?.fd ?? openSync(temp, CREATE_NEW, 0o600);
  } catch (error) {
    // `after` is not left running unwatched: its caller closes what it syncs once this has failed.
    await after.catch(() => undefined);
    throw openFailure(error, temp, what);
  }
  try {
    if (!slot) {
      if (posix) fchmodSync(fd, 0o600); // a umask like 0277 would have left it 0400
      checkOwnedPrivate(fstatSync(fd), temp, what, { forWriting: true });
    }
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at, at);
    // A slot keeps its last content's length: cut only what the new one does not write over.
    if (slot && slot.size > bytes.length) ftruncateSync(fd, bytes.length);
    await Promise.all([fsyncFd(fd), after]);
  } catch (error) {
    await after.catch(() => undefined);
    closeSync(fd);
    // A slot is nobody's content: it is written over next time.
    if (!slot) rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  if (slot) linkIntoPlace(slot.path, file);
  else renameSync(temp, file);
  if (!posix) return;
  const dirFd = openSync(dir, constants.O_RDONLY);
  try {
    await fsyncFd(dirFd);
  } catch {
    // some file systems refuse fsync on a directory; the rename itself has happened
  } finally {
    closeSync(dirFd);
  }
}

/*
 * Slots. The name is always a second link to one of two slot files beside it (`<name>.slot-a`,
 * `<name>.slot-b`); new content goes into the other one, which has that one link (so nothing else
 * reads or reaches it: the rule for files written to), is synced, linked as `<name>.next` and
 * renamed over the name. Every moment the name holds a whole, synced content, as with a temp file;
 * but the rename only drops a link of the old content's inode instead of freeing it, and no inode
 * is made. On ext4 without a journal each new inode skips past those freed in the last 30 s
 * (process-lock.ts), and a bulk apply rewrites the audit head after every batch: a temp file and a
 * rename cost 115 µs of CPU there, a slot 45 µs (issue 20).
 */

const SLOTS = ['slot-a', 'slot-b'];

/** A slot of `file` open for writing, with one link (not the one the name holds), or undefined when neither is free. */
function openFreeSlot(file: string, what: string): { fd: number; path: string; size: number } | undefined {
  for (let attempt = 0; attempt < 2; attempt++) {
    for (const suffix of SLOTS) {
      const slot = `${file}.${suffix}`;
      let fd: number;
      try {
        fd = openSync(slot, constants.O_WRONLY | O_NOFOLLOW | O_NONBLOCK);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw openFailure(error, slot, what);
        fd = openSync(slot, CREATE_NEW, 0o600);
        if (posix) fchmodSync(fd, 0o600);
      }
      const stat = fstatSync(fd);
      if (stat.nlink === 1) {
        try {
          checkOwnedPrivate(stat, slot, what, { forWriting: true });
        } catch (error) {
          closeSync(fd);
          throw error;
        }
        return { fd, path: slot, size: stat.size };
      }
      closeSync(fd);
    }
    // Both have two links: a process cut off between linking `.next` and renaming it left it.
    try {
      unlinkSync(`${file}.next`);
    } catch {
      return undefined; // not that: a temp file then
    }
  }
  return undefined;
}

/** `slot` (written and synced) becomes `file`: linked as `<file>.next`, renamed over the name. */
function linkIntoPlace(slot: string, file: string): void {
  const next = `${file}.next`;
  try {
    linkSync(slot, next);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    unlinkSync(next); // left by a process cut off before its rename
    linkSync(slot, next);
  }
  renameSync(next, file);
}
