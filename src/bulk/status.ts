import fs from 'node:fs/promises';
import path from 'node:path';
import { journalDir, journalLocked, readJournal, type StepRecord } from './journal.js';
import type { BulkPlan } from './plan.js';
import { inShard, type Shard } from './shard.js';

/** `bulk status`: what the journals of a plan say about each of its steps. */

export type StepState = 'done' | 'failed' | 'in flight' | 'pending';

export interface StepStatusRow {
  panel: string;
  step: string;
  action: string;
  slot: number;
  state: StepState;
  reason?: string;
}

export interface PlanStatus {
  journals: string[];
  running: boolean;
  steps: StepStatusRow[];
  counts: Record<StepState, number>;
}

/** Every journal of this plan: the unsharded one and one per shard, merged (a panel is in one shard). */
async function journalsOf(stateDir: string, planId: string, shard?: Shard): Promise<string[]> {
  if (shard) return [journalDir(stateDir, planId, shard)];
  const base = path.join(stateDir, 'bulk');
  const names = await fs.readdir(base).catch(() => [] as string[]);
  return names.filter((n) => n === planId || n.startsWith(`${planId}.shard-`)).map((n) => path.join(base, n));
}

function stateOf(record: StepRecord | undefined): StepState {
  if (!record) return 'pending';
  if (record.last.event === 'started') return 'in flight';
  return record.last.event;
}

export async function planStatus(plan: BulkPlan, stateDir: string, shard?: Shard): Promise<PlanStatus> {
  const journals = await journalsOf(stateDir, plan.id, shard);
  const records = new Map<string, StepRecord>();
  let running = false;
  for (const dir of journals) {
    for (const [step, record] of await readJournal(dir)) records.set(step, record);
    running ||= await journalLocked(dir);
  }
  const steps: StepStatusRow[] = plan.panels
    .filter((p) => inShard(p.panel, shard))
    .flatMap((p) =>
      p.steps.map((s) => {
        const record = records.get(s.id);
        return { panel: p.panel, step: s.id, action: s.action, slot: s.slot, state: stateOf(record), reason: record?.last.error?.message };
      }),
    );
  const counts = { done: 0, failed: 0, 'in flight': 0, pending: 0 };
  for (const s of steps) counts[s.state]++;
  return { journals, running, steps, counts };
}
