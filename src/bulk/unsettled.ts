import fs from 'node:fs/promises';
import path from 'node:path';
import { sharedStore } from '../state/store.js';
import { readJournal, type StepRecord } from './journal.js';

/**
 * Panels on which ANOTHER plan's apply was cut off mid-write (kill -9, a second Ctrl-C) and not
 * yet resumed. Writing such a panel now could overwrite the cut-off write, which that plan's
 * resume would then find missing and write again. So the panel waits until that plan has been
 * resumed. Asked after the panel's work lock is taken, so no other process can be writing it
 * meanwhile: a step of another plan that is still "started" on this panel was cut off.
 * When two plans were both cut off on one panel, the one cut off first goes first (otherwise
 * each would wait for the other for ever).
 */

interface CutOff {
  slot?: number;
  time: string;
}

/** The earliest step of each panel that a journal shows as started and never finished. */
function cutOffByPanel(records: Map<string, StepRecord>): Map<string, CutOff> {
  const panels = new Map<string, CutOff>();
  for (const { last } of records.values()) {
    if (last.event !== 'started') continue;
    const seen = panels.get(last.panel);
    if (!seen || last.time < seen.time) panels.set(last.panel, { slot: last.slot, time: last.time });
  }
  return panels;
}

export class OtherPlans {
  private readonly cache = new Map<string, { stamp: string; panels: Map<string, CutOff> }>();
  private readonly mine: Map<string, CutOff>;

  constructor(
    private readonly stateDir: string,
    private readonly planId: string,
    history: Map<string, StepRecord>,
  ) {
    this.mine = cutOffByPanel(history);
  }

  /** Why this run must leave `panel` alone for now, or undefined. */
  async cutOffOn(panel: string): Promise<string | undefined> {
    const base = path.join(this.stateDir, 'bulk');
    const mine = this.mine.get(panel);
    // Team mode: every machine's plans are in the shared store.
    const shared = await sharedStore(this.stateDir);
    const plans = shared ? await shared.bulk.plansWithJournals() : await fs.readdir(base).catch(() => [] as string[]);
    for (const other of plans) {
      if (other === this.planId || !/^[0-9a-f]{16}$/.test(other)) continue;
      const found = (await this.read(path.join(base, other))).get(panel);
      if (found && (!mine || found.time < mine.time)) {
        return `plan ${other} was interrupted while writing slot ${found.slot} of this panel; resume that plan first (panelctl bulk apply ITS-PLAN-FILE --resume), then this one`;
      }
    }
    return undefined;
  }

  /** A plan's cut-off steps, read again only when its journal files changed. */
  private async read(dir: string): Promise<Map<string, CutOff>> {
    if (await sharedStore(this.stateDir)) return cutOffByPanel(await readJournal(dir));
    const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => /^journal.*\.jsonl$/.test(n));
    const stats = await Promise.all(
      names.map((n) =>
        fs.stat(path.join(dir, n)).then(
          (s) => `${n}:${s.size}:${s.mtimeMs}`,
          () => n,
        ),
      ),
    );
    const stamp = stats.join('|');
    const cached = this.cache.get(dir);
    if (cached?.stamp === stamp) return cached.panels;
    const panels = cutOffByPanel(await readJournal(dir));
    this.cache.set(dir, { stamp, panels });
    return panels;
  }
}
