import fs from 'node:fs/promises';
import path from 'node:path';
import { PanelctlError, ExitCode } from '../core/errors.js';
import { localTime } from '../output/time.js';
import { ensurePrivateDir } from '../state/private-files.js';
import { acquireLock, ownerForThisProcess, ownerIsGone, readOwner, type LockOwner } from '../state/process-lock.js';
import { sharedPlan } from './journal.js';

/**
 * Which panels of a plan a running apply is working on. Any two applies of one plan that could
 * touch the same panel are refused, whatever their shard arguments (--shard 0/2 next to an
 * unsharded run, or 0/2 next to 0/3), while disjoint shards run side by side. A claim names its
 * process by pid and start time (src/state/process-lock.ts), so a claim of a process killed
 * with -9 is ignored at once. Checking and writing claims happens under the plan's own short
 * lock, so two runs starting together cannot both see "no overlap".
 */

export interface Claim extends LockOwner {
  shard: string | null;
  panels: string[];
  operator?: string;
  ticket?: string;
}

function claimsDir(dir: string): string {
  return path.join(dir, 'claims');
}

async function readClaims(dir: string): Promise<Array<{ file: string; claim: Claim }>> {
  const names = await fs.readdir(claimsDir(dir)).catch(() => [] as string[]);
  const found: Array<{ file: string; claim: Claim }> = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const file = path.join(claimsDir(dir), name);
    const claim = (await readOwner(file)) as Claim | undefined;
    if (claim) found.push({ file, claim });
  }
  return found;
}

/** The claims of applies that are running now (a dead process's claim is removed). */
export async function liveClaims(dir: string): Promise<Claim[]> {
  const shared = await sharedPlan(dir);
  if (shared) return shared.store.bulk.liveClaims(shared.plan);
  const live: Claim[] = [];
  for (const { file, claim } of await readClaims(dir)) {
    if (!ownerIsGone(claim)) live.push(claim);
    else await fs.rm(file, { force: true });
  }
  return live;
}

export function describeClaim(claim: Claim): string {
  const who = [`process ${claim.pid}`];
  if (claim.host) who.push(`on ${claim.host}`);
  if (claim.operator) who.push(`by ${claim.operator}`);
  if (claim.ticket) who.push(`ticket ${claim.ticket}`);
  return `${claim.shard ? `--shard ${claim.shard}` : 'unsharded'} (${who.join(', ')}, since ${localTime(String(claim.since))})`;
}

/**
 * Claims `panels` for this run, or refuses (exit 4, nothing done) naming the run that holds
 * one of them. Returns the release.
 */
export async function claimPanels(
  dir: string,
  panels: string[],
  info: { shard: string | null; operator?: string; ticket?: string },
): Promise<() => Promise<void>> {
  // Team mode: the claims of every machine's applies are compared in the shared store.
  const shared = await sharedPlan(dir);
  if (shared) return shared.store.bulk.claim(shared.plan, { ...info, panels }, (live) => refuseOverlap(live, panels));
  await ensurePrivateDir(claimsDir(dir));
  const mutex = path.join(dir, 'claims.lock');
  // The plan's lock is held only while claims are compared: wait for it, briefly.
  const release = await acquireLock(mutex, { waitMs: 10_000 });
  if (typeof release !== 'function')
    throw new PanelctlError(
      ExitCode.unreachable,
      'E_PLAN_BUSY',
      `could not take the lock of this plan (${mutex}), held by process ${release.heldBy?.pid ?? '?'}`,
    );
  try {
    refuseOverlap(await liveClaims(dir), panels);
    const mine = ownerForThisProcess({ command: 'bulk apply', operator: info.operator, ticket: info.ticket, shard: info.shard, panels }) as Claim;
    const file = path.join(claimsDir(dir), `${mine.token}.json`);
    await fs.writeFile(file, JSON.stringify(mine), { mode: 0o600 });
    return () => fs.rm(file, { force: true });
  } finally {
    await release();
  }
}

/** Refuses (exit 4, nothing done) when a live claim shares a panel with `panels`, naming that run. */
function refuseOverlap(live: Claim[], panels: string[]): void {
  const wanted = new Set(panels);
  for (const claim of live) {
    const shared = claim.panels.filter((p) => wanted.has(p));
    if (!shared.length) continue;
    throw new PanelctlError(
      ExitCode.unreachable,
      'E_PLAN_BUSY',
      `another apply of this plan is running on ${shared.length} of the same panel(s) (${shared.slice(0, 3).join(', ')}${shared.length > 3 ? ', ...' : ''}): ${describeClaim(claim)}; nothing was done`,
      {
        hint: 'two applies of one plan may run at once only on disjoint shards (e.g. --shard 0/4 and --shard 1/4); wait for it, or see `panelctl bulk status PLAN`',
        data: {
          holder: {
            pid: claim.pid,
            host: claim.host,
            shard: claim.shard,
            since: claim.since,
            operator: claim.operator,
            ticket: claim.ticket,
            command: claim.command,
          },
        },
      },
    );
  }
}
