import fs from 'node:fs/promises';
import path from 'node:path';
import { liveClaims } from './claims.js';
import { readJournal } from './journal.js';

/**
 * Panels on which ANOTHER plan's apply was cut off mid-write (kill -9, a second Ctrl-C) and not
 * yet resumed. Writing such a panel now could overwrite the cut-off write, which that plan's
 * resume would then find missing and write again: its codes file would say `applied` for a code
 * that is no longer in force. So the panel waits until that plan has been resumed.
 * Returns panel -> why. A plan whose apply is running now settles its own steps: not counted.
 */
export async function cutOffElsewhere(stateDir: string, planId: string, panels: Set<string>): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const base = path.join(stateDir, 'bulk');
  const names = await fs.readdir(base).catch(() => [] as string[]);
  for (const other of names) {
    if (other === planId || !/^[0-9a-f]{16}$/.test(other)) continue;
    const dir = path.join(base, other);
    const running = new Set((await liveClaims(dir)).flatMap((c) => c.panels));
    for (const record of (await readJournal(dir)).values()) {
      const { panel, slot, event } = record.last;
      if (event !== 'started' || !panels.has(panel) || running.has(panel) || found.has(panel)) continue;
      found.set(panel, `plan ${other} was interrupted while writing slot ${slot} of this panel; resume that plan first (panelctl bulk apply ITS-PLAN-FILE --resume), then this one`);
    }
  }
  return found;
}
