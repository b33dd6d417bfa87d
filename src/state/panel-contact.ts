import { existsSync } from 'node:fs';
import { readPrivateFileNow, replacePrivateFileNow } from './safe-file.js';

/**
 * When a panel last answered a panelctl session (PanelSession.lastContactAt), and until when it asked to
 * be left alone (PanelSession.quietUntil: a MAP 5000's 60 s after an overload 503), kept beside the panel's
 * lock file so that the next process to take the lock can give them to its driver: a MAP 5000 answers a
 * request sooner than 1 s after its last answer, to anyone, with 503 and a 60 s penalty.
 *
 * It is a hint, not a record: written while the lock is held, and a missing, garbled or foreign file
 * reads as "no contact recorded"; a failed write only loses the pause.
 */

const WHAT = 'panel contact record';
const MAX_BYTES = 256;

export interface PanelContact {
  /** The last answer, wall-clock ms. */
  lastContactAt?: number;
  /** No request before this, wall-clock ms. */
  quietUntil?: number;
}

const time = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** The recorded times (wall-clock ms); each one absent when missing or not a number. */
export function readContactNow(file: string): PanelContact {
  // Most panels have none (only pacing drivers record one): asked without the cost of an ENOENT exception (issue 20).
  if (!existsSync(file)) return {};
  try {
    const record = JSON.parse(readPrivateFileNow(file, WHAT, MAX_BYTES)) as PanelContact | null;
    return { lastContactAt: time(record?.lastContactAt), quietUntil: time(record?.quietUntil) };
  } catch {
    return {};
  }
}

/** Records `contact` as safe-file replaces a private file: new content linked over the name from a slot file (a planted link is replaced, not followed). */
export async function writeContact(file: string, contact: PanelContact): Promise<void> {
  await replacePrivateFileNow(file, JSON.stringify(contact), WHAT, { slots: true }).catch(() => undefined);
}
