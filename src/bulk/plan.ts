import fs from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { loadStateKey, stateKeyPath, type SignedData } from '../state/state-key.js';
import { replacePrivateFile } from '../state/safe-file.js';
import pLimit from 'p-limit';
import * as z from 'zod';
import { capabilitiesOf, type Capability, type DriverInfo, type UserSlot } from '../core/contract.js';
import { UsageError, toPanelctlError } from '../core/errors.js';
import { checkCode } from '../core/code-policy.js';
import { nameProblem } from '../core/user-name.js';
import type { Target } from '../inventory/targets.js';
import type { OperationContext } from '../operations/context.js';
import { addFieldProblem, checkDuressIntent, checkSlot, codePolicyFor, readerMissing, readerOf, samePartitions } from '../operations/user-steps.js';
import type { BulkAction, ChangeRow, CodeSource } from './input.js';
import type { CodeBook } from './codes.js';
import { defaultAccess, type PanelAccess } from './access.js';

/**
 * `bulk plan`: connect read-only to every panel a change list touches, compare each row
 * with the panel's real user table, and write down per panel the exact steps, the rows that
 * are already true (no-ops) and the rows that cannot be done (conflicts). The plan holds no
 * code. Its id is the hash of its content (the journal's key); its signature is an HMAC with the
 * state key, so a plan edited after it was made (even with its id recomputed) or made with
 * another state dir is refused before any panel is contacted.
 */

export interface PlanStep {
  /** Stable within the plan: "<panel>/<n>"; the journal is keyed by it. */
  id: string;
  row: number;
  action: BulkAction;
  slot: number;
  /** add: the name to create. set-code/remove: the user seen in the slot when planning. */
  name?: string;
  partitions?: number[];
  type?: string;
  code?: CodeSource;
  /**
   * The panel cannot read its users back (VISTA): the step was planned from the row alone, with no
   * "before" from the panel, and is written without a check of the slot and proven only by the
   * panel's acknowledgement (panel-ack).
   */
  blind?: true;
}

export interface PlanNote {
  row: number;
  action: BulkAction;
  slot?: number;
  user?: string;
  reason: string;
  /** Conflicts: a stable code (E_SLOT_TAKEN, E_UNSUPPORTED, E_UNREACHABLE...). */
  code?: string;
}

export interface PanelPlan {
  panel: string;
  /** The inventory facts the plan relied on; apply refuses a panel whose facts changed. */
  facts: { driver: string; link: string; options: Record<string, string | number | boolean> };
  steps: PlanStep[];
  noops: PlanNote[];
  conflicts: PlanNote[];
}

export interface BulkPlan {
  format: 'panelctl-bulk-plan/1';
  id: string;
  createdAt: string;
  source: { file: string; rows: number; limit?: string; codesFile?: string };
  panels: PanelPlan[];
  /** HMAC-SHA256 (state key) over everything else; written by writePlan. */
  signature?: string;
}

/** The id: the first 16 hex digits of the SHA-256 of everything else, keys in a fixed order. */
export function planIdOf(plan: Omit<BulkPlan, 'id'> | BulkPlan): string {
  const { id: _id, signature: _signature, ...rest } = plan as BulkPlan;
  const hash = createHash('sha256');
  writeChunked(rest, (text) => hash.update(text));
  return hash.digest('hex').slice(0, 16);
}

/** The canonical form of `value`, handed to `flush` in chunks. */
function writeChunked(value: unknown, flush: (text: string) => void): void {
  const write = chunked(flush);
  writeCanonical(value, write);
  write.end();
}

/**
 * The canonical form that the id and the signature cover: JSON with every object's keys sorted
 * and undefined values left out. It is written piece by piece into its consumer (a hash, an
 * HMAC) instead of built as one string: for 10,000 panels that string was 13 MB, made twice per
 * read of a plan (issue 20). The text is exactly what the one-string form was, so plans made by
 * an older build keep their id and signature (test/bulk/plan-canonical.test.ts).
 */
function writeCanonical(value: unknown, write: (text: string) => void): void {
  if (Array.isArray(value)) {
    write('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) write(',');
      // What has no JSON (undefined, a function) was an empty piece in the one-string form ([undefined].join()).
      if (value[i] !== undefined && typeof value[i] !== 'function' && typeof value[i] !== 'symbol') writeCanonical(value[i], write);
    }
    write(']');
    return;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    write('{');
    entries.forEach(([k, v], i) => {
      write(`${i > 0 ? ',' : ''}${JSON.stringify(k)}:`);
      writeCanonical(v, write);
    });
    write('}');
    return;
  }
  // A function or symbol has no JSON: the one-string form wrote "undefined" for it in an object.
  write(String(JSON.stringify(value)));
}

/** Groups small pieces into chunks of about 64 KiB before they reach `flush` (one hash update per chunk, not per piece). */
function chunked(flush: (text: string) => void): ((text: string) => void) & { end(): void } {
  let pending = '';
  const write = (text: string) => {
    pending += text;
    if (pending.length >= 1 << 16) {
      flush(pending);
      pending = '';
    }
  };
  return Object.assign(write, {
    end() {
      if (pending) flush(pending);
      pending = '';
    },
  });
}

export function factsOf(target: Target): PanelPlan['facts'] {
  const options = Object.fromEntries(Object.entries(target.options).filter(([, v]) => v !== undefined)) as Record<string, string | number | boolean>;
  return { driver: target.driver, link: target.link.url, options };
}

const NEEDS: Record<BulkAction, Capability> = { add: 'users.add', 'set-code': 'users.set-code', remove: 'users.remove' };

/**
 * An add row's partitions or type on a driver that cannot set them or does not take those values
 * (addFieldProblem): a conflict, as `users add --partitions` is exit 2 there, never a failed step at apply.
 */
function untakenColumn(row: ChangeRow, info: DriverInfo): string | undefined {
  if (row.action !== 'add') return undefined;
  const problem = addFieldProblem(info, row);
  return problem && `${problem.field}: ${problem.rule}`;
}

/**
 * Why a row cannot be planned on a panel without a reader, and what to do instead: the exit-6
 * message of the single-panel commands (readerMissing), then the bulk way round it.
 */
function needsTheList(info: DriverInfo, panel: string, what: string, instead: string): string {
  const missing = readerMissing(info, what, panel);
  return `${missing.message} (the panel cannot list its users): ${instead}; \`panelctl audit show --panel ${panel}\` lists what panelctl itself changed on it`;
}

const sameName = (a: string | undefined, b: string | undefined) => (a ?? '').trim() === (b ?? '').trim();

export interface PlanOptions {
  concurrency: number;
  codes?: CodeBook;
  allowWeak?: boolean;
  access?: PanelAccess;
  source: BulkPlan['source'];
  onPanel?: (panel: PanelPlan) => void;
}

export async function buildPlan(rows: ChangeRow[], targets: Map<string, Target>, ctx: OperationContext, options: PlanOptions): Promise<BulkPlan> {
  const access = options.access ?? defaultAccess;
  const byPanel = new Map<string, ChangeRow[]>();
  for (const row of rows) {
    for (const panel of row.panels) {
      const list = byPanel.get(panel);
      if (list) list.push(row);
      else byPanel.set(panel, [row]);
    }
  }

  const limit = pLimit(options.concurrency);
  const panels = await Promise.all(
    [...byPanel.entries()].map(([name, panelRows]) =>
      limit(async () => {
        const plan = await planPanel(targets.get(name) as Target, panelRows, ctx, access, options);
        options.onPanel?.(plan);
        return plan;
      }),
    ),
  );
  panels.sort((a, b) => (a.panel < b.panel ? -1 : a.panel > b.panel ? 1 : 0));
  const unsigned = { format: 'panelctl-bulk-plan/1' as const, createdAt: new Date().toISOString(), source: options.source, panels };
  return { ...unsigned, id: planIdOf(unsigned) };
}

async function planPanel(target: Target, rows: ChangeRow[], ctx: OperationContext, access: PanelAccess, options: PlanOptions): Promise<PanelPlan> {
  const plan: PanelPlan = { panel: target.name, facts: factsOf(target), steps: [], noops: [], conflicts: [] };
  const conflictAll = (reason: string, code: string) => {
    for (const row of rows) plan.conflicts.push({ row: row.row, action: row.action, slot: row.slot, user: row.user, reason, code });
  };
  let info: DriverInfo;
  let users: UserSlot[];
  try {
    info = await access.describe(target, ctx);
    // Without a reader, only what a row says by itself can be planned (planBlind); the panel is not contacted.
    if (!info.facets.reader) {
      if (!info.facets.writer) conflictAll(readerMissing(info, 'plan a bulk change', target.name).message, 'E_UNSUPPORTED');
      else planBlind(plan, target, rows, info, options);
      return plan;
    }
    // Read-only: list the users and let go of the panel at once (it serves one client).
    const open = await access.open(target, ctx);
    try {
      users = await readerOf(open.session, open.info, 'plan a bulk change').listUsers();
    } finally {
      await open.close().catch(() => undefined);
    }
  } catch (error) {
    const failure = toPanelctlError(error);
    conflictAll(failure.message, failure.code === 'E_UNSUPPORTED' ? 'E_UNSUPPORTED' : failure.exitCode === 4 ? 'E_UNREACHABLE' : failure.code);
    return plan;
  }

  // A working copy of the table, so later rows see the effect of earlier ones (remove then add).
  const table = new Map(users.map((u) => [u.slot, u]));
  const keepsNames = info.userNames !== false;
  for (let row of rows) {
    const note = (reason: string, code?: string, slot = row.slot): PlanNote => ({ row: row.row, action: row.action, slot, user: row.user, reason, code });
    const conflict = (reason: string, code: string, slot?: number) => plan.conflicts.push(note(reason, code, slot));
    if (!keepsNames) {
      // Without names a user is only its slot: one named, or an add that must find "its" user, cannot be planned.
      const unnamed = unnamedProblem(row, info, table);
      if (unnamed) {
        conflict(unnamed, 'E_NO_NAMES', row.slot);
        continue;
      }
      row = { ...row, name: undefined };
    }
    // The driver's name rules (INTEGRA: 16 characters of Windows-1250), here rather than at apply,
    // where a refused name would leave its generated code unconfirmed though it was never sent.
    const badName = row.action === 'add' && row.name !== undefined ? nameProblem(row.name, info) : undefined;
    if (badName) {
      conflict(`name "${row.name}" ${badName}`, 'E_NAME');
      continue;
    }
    const untaken = untakenColumn(row, info);
    if (untaken) {
      conflict(untaken, 'E_UNSUPPORTED');
      continue;
    }
    if (!capabilitiesOf(info.facets).includes(NEEDS[row.action])) {
      conflict(
        `the ${info.name} driver cannot ${row.action === 'add' ? 'add users' : row.action === 'remove' ? 'remove users' : 'change codes'}`,
        'E_UNSUPPORTED',
      );
      continue;
    }
    const policyProblem = codeProblem(row, info, target, options);
    const resolved = resolveSlot(row, info, table);
    if ('conflict' in resolved) {
      conflict(resolved.conflict, resolved.code, resolved.slot);
      continue;
    }
    if ('noop' in resolved) {
      plan.noops.push(note(resolved.noop, undefined, resolved.slot));
      continue;
    }
    if (policyProblem) {
      conflict(`code policy: ${policyProblem}`, 'E_CODE_POLICY', resolved.slot);
      continue;
    }
    const { slot, current } = resolved;
    if (current?.editable === false) {
      conflict(`the configured credential may not edit slot ${slot}`, 'E_NO_RIGHTS', slot);
      continue;
    }
    const step: PlanStep = {
      id: `${target.name}/${plan.steps.length + 1}`,
      row: row.row,
      action: row.action,
      slot,
      name: row.action === 'add' ? row.name : current?.name,
      partitions: row.action === 'add' ? row.partitions : undefined,
      type: row.action === 'add' ? row.type : undefined,
      code: row.code,
    };
    plan.steps.push(step);
    if (row.action === 'remove') table.delete(slot);
    if (row.action === 'add') table.set(slot, { slot, kind: 'user', name: row.name, partitions: row.partitions, hasCode: true });
  }
  return plan;
}

/**
 * A panel that cannot read its users back (VISTA): a row that names its slot and needs nothing
 * from the user table becomes a step the way `users add --slot` / `set-code --slot` / `remove
 * --slot` would do it (same slot and duress rules), marked blind. A row that needs the table (a
 * user found by name, an add without a slot, whether it is already done) is a conflict that says
 * why and what to give instead.
 */
function planBlind(plan: PanelPlan, target: Target, rows: ChangeRow[], info: DriverInfo, options: PlanOptions): void {
  const panel = target.name;
  const keepsNames = info.userNames !== false;
  // Two rows on one slot of one panel are refused when the change list is read (input.ts).
  for (const row of rows) {
    const conflict = (reason: string, code: string) => plan.conflicts.push({ row: row.row, action: row.action, slot: row.slot, user: row.user, reason, code });
    if (row.user !== undefined) {
      conflict(needsTheList(info, panel, `find the user named "${row.user}"`, 'give the slot instead of the name'), 'E_UNSUPPORTED');
      continue;
    }
    if (row.slot === undefined) {
      // Only an add gets here (input.ts: set-code and remove need a slot or a user).
      conflict(needsTheList(info, panel, 'pick a free slot or tell whether the user is already there', 'give the slot for the add'), 'E_UNSUPPORTED');
      continue;
    }
    const badName = keepsNames && row.action === 'add' && row.name !== undefined ? nameProblem(row.name, info) : undefined;
    if (badName) {
      conflict(`name "${row.name}" ${badName}`, 'E_NAME');
      continue;
    }
    const untaken = untakenColumn(row, info);
    if (untaken) {
      conflict(untaken, 'E_UNSUPPORTED');
      continue;
    }
    try {
      checkSlot(info, row.slot, 'slot', row.action);
      if (row.action !== 'remove') checkDuressIntent(info, row.slot, row.duress);
    } catch (error) {
      conflict((error as Error).message, 'E_NO_SUCH_SLOT');
      continue;
    }
    const policyProblem = codeProblem(row, info, target, options);
    if (policyProblem) {
      conflict(`code policy: ${policyProblem}`, 'E_CODE_POLICY');
      continue;
    }
    plan.steps.push({
      id: `${panel}/${plan.steps.length + 1}`,
      row: row.row,
      action: row.action,
      slot: row.slot,
      name: row.action === 'add' && keepsNames ? row.name : undefined,
      partitions: row.action === 'add' ? row.partitions : undefined,
      type: row.action === 'add' ? row.type : undefined,
      code: row.code,
      blind: true,
    });
  }
}

type Resolution = { slot: number; current?: UserSlot } | { noop: string; slot?: number } | { conflict: string; code: string; slot?: number };

/** Which slot a row means on this panel, given its current (working) user table. */
function resolveSlot(row: ChangeRow, info: DriverInfo, table: Map<number, UserSlot>): Resolution {
  if (row.slot !== undefined) {
    const refused = slotRefusal(row, info, row.slot);
    if (refused) return refused;
  }
  const byName = row.user !== undefined ? [...table.values()].filter((u) => sameName(u.name, row.user)) : [];
  if (byName.length > 1)
    return { conflict: `${byName.length} users are named "${row.user}" (slots ${byName.map((u) => u.slot).join(', ')}); give the slot`, code: 'E_AMBIGUOUS' };

  if (row.action === 'add') {
    if (row.slot === undefined) {
      const same = [...table.values()].find((u) => sameName(u.name, row.name));
      if (same) return { noop: `"${row.name}" already exists in slot ${same.slot}`, slot: same.slot };
      const free = firstFreeSlot(info, table);
      if (free === undefined) return { conflict: 'no free user slot on this panel', code: 'E_PANEL_FULL' };
      // A row marked duress means a duress slot: the next free user slot is not one (as `users add --next --duress`).
      if (row.duress) return { conflict: `duress: slot ${free}, the next free one, is not a duress slot; give the duress slot`, code: 'E_NO_SUCH_SLOT' };
      return { slot: free };
    }
    const current = table.get(row.slot);
    if (!current) return { slot: row.slot };
    if (sameName(current.name, row.name) && (!row.partitions || samePartitions(current.partitions, row.partitions))) {
      return { noop: `slot ${row.slot} already holds "${row.name}"`, slot: row.slot };
    }
    return { conflict: `slot ${row.slot} is taken by "${current.name ?? '(no name)'}"`, code: 'E_SLOT_TAKEN', slot: row.slot };
  }

  const slot = row.slot ?? byName[0]?.slot;
  const current = slot === undefined ? undefined : table.get(slot);
  if (row.user !== undefined && row.slot !== undefined && current && !sameName(current.name, row.user)) {
    return { conflict: `slot ${row.slot} holds "${current.name ?? ''}", not "${row.user}"`, code: 'E_CHANGED', slot: row.slot };
  }
  if (!current) {
    const who = row.user !== undefined ? `no user named "${row.user}"` : `slot ${slot} is empty`;
    return row.action === 'remove' ? { noop: `${who}: nothing to remove`, slot } : { conflict: `${who}: no code to change`, code: 'E_NO_SUCH_USER', slot };
  }
  // A user found by name is in a slot the row did not name: the same slot and duress rules as for a named slot.
  return (row.slot === undefined && slotRefusal(row, info, current.slot)) || { slot: current.slot, current };
}

/** The slot's local rules for this row's action, and the duress intent a code write needs (`users ... --slot` checks). */
function slotRefusal(row: ChangeRow, info: DriverInfo, slot: number): Resolution | undefined {
  try {
    checkSlot(info, slot, 'slot', row.action);
    if (row.action !== 'remove') checkDuressIntent(info, slot, row.duress);
    return undefined;
  } catch (error) {
    return { conflict: (error as Error).message, code: 'E_NO_SUCH_SLOT', slot };
  }
}

/** Rows that need names, on a panel that keeps none (DSC); the row's own name is simply not stored. */
function unnamedProblem(row: ChangeRow, info: DriverInfo, table: Map<number, UserSlot>): string | undefined {
  if (row.user !== undefined) return `${info.name} panels keep no user names: give the slot instead of "${row.user}"`;
  if (row.action !== 'add') return undefined;
  if (row.slot === undefined)
    return `${info.name} panels keep no user names, so an add needs a slot (panelctl could not tell whether the user is already there)`;
  if (table.has(row.slot)) return `slot ${row.slot} is already programmed (${info.name} panels keep no names, so panelctl cannot tell whose it is)`;
  return undefined;
}

function firstFreeSlot(info: DriverInfo, table: Map<number, UserSlot>): number | undefined {
  for (const range of info.slotRanges.filter((r) => r.kind === 'user')) {
    for (let slot = range.from; slot <= range.to; slot++) if (!table.has(slot)) return slot;
  }
  return undefined;
}

/** A codes-file code that this panel's policy refuses (the message names the rule, never the code). */
function codeProblem(row: ChangeRow, info: DriverInfo, target: Target, options: PlanOptions): string | undefined {
  if (row.code?.source !== 'codes' || !options.codes) return undefined;
  try {
    checkCode(
      options.codes.get(row.code.column, row.code.row),
      codePolicyFor(info, target, { allowWeak: options.allowWeak }),
      `codes file column "${row.code.column}" row ${row.code.row}`,
    );
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** What the signature covers: the canonical form of everything but the signature, written piece by piece. */
const signedPart =
  (plan: BulkPlan): SignedData =>
  (write) => {
    const { signature: _signature, ...rest } = plan;
    writeChunked(rest, write);
  };

/** A plan with its id and its signature (HMAC with the state dir's key, made on first use). */
export async function signPlan(plan: Omit<BulkPlan, 'id' | 'signature'> | BulkPlan, stateDir: string): Promise<BulkPlan> {
  const key = await loadStateKey(stateDir, { create: true });
  const { signature: _signature, ...rest } = plan as BulkPlan;
  const withId = { ...rest, id: planIdOf(rest) } as BulkPlan;
  return { ...withId, signature: key!.sign('bulk-plan', signedPart(withId)) };
}

/**
 * The plan holds no secret but decides what is written to panels: it is signed, and written
 * 0600 (a new temp file created O_EXCL|O_NOFOLLOW, renamed into place).
 */
export async function writePlan(file: string, plan: BulkPlan, stateDir: string): Promise<BulkPlan> {
  const signed = await signPlan(plan, stateDir);
  await replacePrivateFile(file, `${JSON.stringify(signed, null, 2)}\n`, 'plan', { directoryChecked: true });
  return signed;
}

const codeSourceSchema = z.union([
  z.object({ source: z.literal('generate') }),
  z.object({ source: z.literal('stdin') }),
  z.object({ source: z.literal('codes'), column: z.string(), row: z.number().int().positive() }),
]);
const noteSchema = z.object({
  row: z.number(),
  action: z.enum(['add', 'set-code', 'remove']),
  slot: z.number().optional(),
  user: z.string().optional(),
  reason: z.string(),
  code: z.string().optional(),
});
const stepSchema = z.object({
  id: z.string(),
  row: z.number(),
  action: z.enum(['add', 'set-code', 'remove']),
  slot: z.number().int(),
  name: z.string().optional(),
  partitions: z.array(z.number()).optional(),
  type: z.string().optional(),
  code: codeSourceSchema.optional(),
  blind: z.literal(true).optional(),
});
const panelSchema = z.object({
  panel: z.string(),
  facts: z.object({ driver: z.string(), link: z.string(), options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])) }),
  steps: z.array(stepSchema),
  noops: z.array(noteSchema),
  conflicts: z.array(noteSchema),
});
/** Everything but the panels' content, which is checked panel by panel (checkPlanShape). */
const planHeadSchema = z.object({
  format: z.literal('panelctl-bulk-plan/1'),
  id: z.string().regex(/^[0-9a-f]{16}$/),
  createdAt: z.string(),
  source: z.object({ file: z.string(), rows: z.number(), limit: z.string().optional(), codesFile: z.string().optional() }),
  signature: z.string().optional(),
  panels: z.array(z.unknown()),
});

/**
 * The plan as the schema has it (unknown fields dropped), or the first problem. Checked panel by
 * panel, each parsed panel taking the place of the one read: a copy of the whole plan next to the
 * one read was 21 MB at 10,000 panels (issue 20); one panel at a time, the read one is garbage as
 * soon as its copy is made. Same result and same first problem as one schema over the whole plan.
 */
function checkPlanShape(raw: unknown): { plan: BulkPlan } | { problem: z.core.$ZodIssue } {
  const head = planHeadSchema.safeParse(raw);
  if (!head.success) return { problem: head.error.issues[0] };
  const panels = head.data.panels;
  // The schema's copy of the list holds the same panels as the list read: both let go of each one.
  const read = (raw as { panels: unknown[] }).panels;
  for (let i = 0; i < panels.length; i++) {
    const panel = panelSchema.safeParse(panels[i]);
    if (!panel.success) {
      const problem = panel.error.issues[0];
      return { problem: { ...problem, path: ['panels', i, ...problem.path] } };
    }
    panels[i] = panel.data;
    read[i] = undefined;
  }
  return { plan: head.data as BulkPlan };
}

/**
 * Reads a plan and insists it is the one `bulk plan` wrote with this state dir: its id matches
 * its content and its signature verifies with the state key. Every refusal names the reason.
 */
export async function readPlan(file: string, stateDir: string): Promise<BulkPlan> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read plan ${file}: ${(error as NodeJS.ErrnoException).code ?? 'not valid JSON'}`, { code: 'E_INVALID' });
  }
  const shape = checkPlanShape(raw);
  raw = undefined;
  if ('problem' in shape)
    throw new UsageError(`${file} is not a panelctl bulk plan (${shape.problem.path.join('.')}: ${shape.problem.message})`, {
      code: 'E_INVALID',
    });
  const plan = shape.plan;
  if (planIdOf(plan) !== plan.id) {
    throw new UsageError(`plan ${file} was changed after it was made (its content no longer matches its id ${plan.id})`, {
      code: 'E_PLAN_EDITED',
      hint: 'run `panelctl bulk plan` again',
    });
  }
  const again = 'run `panelctl bulk plan` again on this machine (with this state dir)';
  if (!plan.signature) {
    throw new UsageError(`plan ${file} is not signed (made by an older panelctl, or the signature was removed)`, { code: 'E_PLAN_UNSIGNED', hint: again });
  }
  const key = await loadStateKey(stateDir, { create: false });
  if (!key) {
    throw new UsageError(
      `plan ${file} cannot be checked: there is no state key at ${stateKeyPath(stateDir)} (plans are bound to the state dir that made them)`,
      { code: 'E_PLAN_FOREIGN', hint: again },
    );
  }
  if (!key.verify('bulk-plan', signedPart(plan), plan.signature)) {
    throw new UsageError(
      `plan ${file}: the signature does not verify: the plan was changed after it was made (even with its id recomputed), or it was made with another state dir`,
      {
        code: 'E_PLAN_SIGNATURE',
        hint: again,
      },
    );
  }
  return plan;
}
