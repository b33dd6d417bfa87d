import { existsSync } from 'node:fs';
import { readPrivateFileNow, replacePrivateFileNow } from './safe-file.js';

/**
 * When a panel last answered a panelctl session (PanelSession.lastContactAt), kept beside the panel's
 * lock file so that the next process to take the lock can give it to its driver: a MAP 5000 answers a
 * request sooner than 1 s after its last answer, to anyone, with 503 and a 60 s penalty.
 *
 * It is a hint, not a record: written while the lock is held, and a missing, garbled or foreign file
 * reads as "no contact recorded"; a failed write only loses the pause.
 */

const WHAT = 'panel contact record';
const MAX_BYTES = 256;

/** The recorded time (wall-clock ms), or undefined. */
export function readContactNow(file: string): number | undefined {
  // Most panels have none (only pacing drivers record one): asked without the cost of an ENOENT exception (issue 20).
  if (!existsSync(file)) return undefined;
  try {
    const value = (JSON.parse(readPrivateFileNow(file, WHAT, MAX_BYTES)) as { lastContactAt?: unknown }).lastContactAt;
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Records `at` (wall-clock ms) as safe-file replaces a private file: new content linked over the name from a slot file (a planted link is replaced, not followed). */
export async function writeContact(file: string, at: number): Promise<void> {
  await replacePrivateFileNow(file, JSON.stringify({ lastContactAt: at }), WHAT, { slots: true }).catch(() => undefined);
}
