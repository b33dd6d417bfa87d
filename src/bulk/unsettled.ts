import { readdirSync, statSync } from 'node:fs';
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

/**
 * A directory's names, or none when it cannot be listed. Synchronous: asked for every panel of a
 * bulk apply, where a small directory lists in microseconds but a thread-pool round trip, with 64
 * panels' file operations queued at once, cost far more (issue 20 profile).
 */
function listNow(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** How long after its last change a directory's stamp is trusted to move with the next one (a file system clock tick is at most 10 ms). */
const SETTLED_MS = 100;

export class OtherPlans {
  private readonly cache = new Map<string, { stamp: string; panels: Map<string, CutOff> }>();
  private readonly mine: Map<string, CutOff>;
  /** The state dir's plans as last listed, with the directory's stamp then; see plansHere. */
  private listing?: { stamp: string; names: string[]; settled: boolean };

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
    const plans = shared ? await shared.bulk.plansWithJournals() : this.plansHere(base);
    for (const other of plans) {
      if (other === this.planId || !/^[0-9a-f]{16}$/.test(other)) continue;
      const found = (await this.read(path.join(base, other))).get(panel);
      if (found && (!mine || found.time < mine.time)) {
        return `plan ${other} was interrupted while writing slot ${found.slot} of this panel; resume that plan first (panelctl bulk apply ITS-PLAN-FILE --resume), then this one`;
      }
    }
    return undefined;
  }

  /**
   * The plans in the state dir, listed again only when the directory changed: one stat per panel
   * instead of a listing (open, two reads, close). A plan made or removed changes the directory's
   * mtime, but within one tick of the file system's clock it could keep the same one: a listing
   * is trusted again only when the directory was last changed well before it was taken.
   */
  private plansHere(base: string): string[] {
    const stat = statSync(base, { throwIfNoEntry: false });
    if (!stat) return [];
    const stamp = `${stat.ino}:${stat.mtimeMs}:${stat.ctimeMs}`;
    if (this.listing?.stamp === stamp && this.listing.settled) return this.listing.names;
    const names = listNow(base);
    this.listing = { stamp, names, settled: Date.now() - Math.max(stat.mtimeMs, stat.ctimeMs) > SETTLED_MS };
    return names;
  }

  /** A plan's cut-off steps, read again only when its journal files changed. */
  private async read(dir: string): Promise<Map<string, CutOff>> {
    if (await sharedStore(this.stateDir)) return cutOffByPanel(await readJournal(dir));
    const names = listNow(dir).filter((n) => /^journal.*\.jsonl$/.test(n));
    const stamp = names
      .map((n) => {
        const stat = statSync(path.join(dir, n), { throwIfNoEntry: false });
        return stat ? `${n}:${stat.size}:${stat.mtimeMs}` : n;
      })
      .join('|');
    const cached = this.cache.get(dir);
    if (cached?.stamp === stamp) return cached.panels;
    const panels = cutOffByPanel(await readJournal(dir));
    this.cache.set(dir, { stamp, panels });
    return panels;
  }
}
