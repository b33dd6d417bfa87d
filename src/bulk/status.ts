import { liveClaims, type Claim } from './claims.js';
import { planDir, readJournal, type StepRecord } from './journal.js';
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
  /** A failed step's error, as `errorCode` names errors everywhere in JSON. */
  errorCode?: string;
}

export interface PlanStatus {
  /** The plan's journal directory (every shard's file is in it), if it has one yet. */
  journals: string[];
  /** Whether an apply of this plan (any shard) runs now: only live processes count. */
  running: boolean;
  runs: Claim[];
  steps: StepStatusRow[];
  counts: Record<StepState, number>;
}

function stateOf(record: StepRecord | undefined): StepState {
  if (!record) return 'pending';
  if (record.last.event === 'started') return 'in flight';
  return record.last.event;
}

export async function planStatus(plan: BulkPlan, stateDir: string, shard?: Shard): Promise<PlanStatus> {
  const dir = planDir(stateDir, plan.id);
  const records = await readJournal(dir);
  const runs = await liveClaims(dir);
  const journals = records.size ? [dir] : [];
  const steps: StepStatusRow[] = plan.panels
    .filter((p) => inShard(p.panel, shard))
    .flatMap((p) =>
      p.steps.map((s) => {
        const record = records.get(s.id);
        const error = record?.last.error;
        return { panel: p.panel, step: s.id, action: s.action, slot: s.slot, state: stateOf(record), reason: error?.message, errorCode: error?.code };
      }),
    );
  const counts = { done: 0, failed: 0, 'in flight': 0, pending: 0 };
  for (const s of steps) counts[s.state]++;
  return { journals, running: runs.length > 0, runs, steps, counts };
}
