import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { readPrivateFileNow } from './safe-file.js';

/**
 * When a panel last answered a panelctl session (PanelSession.lastContactAt), kept beside the panel's
 * lock file so that the next process to take the lock can give it to its driver: a MAP 5000 answers a
 * request sooner than 1 s after its last answer, to anyone, with 503 and a 60 s penalty.
 *
 * It is a hint, not a record: written while the lock is held, without fsync (a crash loses at most a
 * second's pause), and a missing, garbled or foreign file reads as "no contact recorded".
 */

const MAX_BYTES = 256;

/** The recorded time (wall-clock ms), or undefined. */
export function readContactNow(file: string): number | undefined {
  try {
    const value = (JSON.parse(readPrivateFileNow(file, 'panel contact record', MAX_BYTES)) as { lastContactAt?: unknown }).lastContactAt;
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Records `at` (wall-clock ms) atomically: a new 0600 file renamed over the name (a planted link is replaced, not followed). */
export function writeContactNow(file: string, at: number): void {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, JSON.stringify({ lastContactAt: at }));
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch {
    rmSync(temp, { force: true });
  }
}
