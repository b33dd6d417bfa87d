import path from 'node:path';
import { ExitCode, NotSupportedError, UsageError, ValidationError } from '../../core/errors.js';
import type { Secret } from '../../core/secret.js';
import { allTargets, type Target } from '../../inventory/targets.js';
import type { Column } from '../../output/table.js';
import { readChanges } from '../../bulk/input.js';
import { CodeBook, GeneratedCodes, readStdinCode } from '../../bulk/codes.js';
import { buildPlan, readPlan, writePlan, type BulkPlan, type PanelPlan } from '../../bulk/plan.js';
import { applyPlan, panelsInScope, type ApplyEvent, type ApplyReport, type StepOutcome } from '../../bulk/apply.js';
import { planStatus, type StepStatusRow } from '../../bulk/status.js';
import { describeClaim } from '../../bulk/claims.js';
import { inShard, parseShard, type Shard } from '../../bulk/shard.js';
import type { Cli } from '../context.js';
import { checkRevealAllowed } from '../code-input.js';
import { proofJson } from '../proof-text.js';
import { keepHeapNearLive } from '../../core/heap-growth.js';

function count(value: string | undefined, field: string, min: number): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < min) throw new ValidationError(field, `must be a whole number from ${min}`);
  return Number(value);
}

/**
 * The context for many panels at once: no per-connection spinner and no secret prompts
 * (a hundred panels cannot all ask at once); credentials come from env: or file: references.
 */
function bulkContext(cli: Cli) {
  return { ...cli.ctx, activity: undefined, promptSecret: undefined, signal: undefined };
}

/** Inventory panels by name; the inventory's default operator applies as for single-panel commands. */
async function inventoryTargets(cli: Cli): Promise<Target[]> {
  const inventory = await cli.inventory();
  if (!cli.globals.operator && inventory.defaults?.operator && !process.env.PANELCTL_OPERATOR) cli.ctx.operator = inventory.defaults.operator;
  return allTargets(inventory);
}

const planColumns: Column<PanelPlan>[] = [
  { header: 'PANEL', value: (p) => p.panel },
  { header: 'DRIVER', value: (p) => p.facts.driver },
  { header: 'STEPS', value: (p) => p.steps.length, align: 'right' },
  { header: 'NO-OPS', value: (p) => p.noops.length, align: 'right' },
  { header: 'CONFLICTS', value: (p) => p.conflicts.length, align: 'right' },
  { header: 'FIRST CONFLICT', value: (p) => (p.conflicts[0] ? `row ${p.conflicts[0].row}: ${p.conflicts[0].reason}` : '') },
];

/** A panel's plan in JSON output: a conflict's `errorCode` names it (`code`, the same value, is the deprecated alias). */
function panelJson(panel: PanelPlan) {
  return { ...panel, conflicts: panel.conflicts.map(({ code, ...note }) => ({ ...note, errorCode: code ?? null, code })) };
}

function planTotals(plan: BulkPlan) {
  const sum = (f: (p: PanelPlan) => number) => plan.panels.reduce((n, p) => n + f(p), 0);
  return { panels: plan.panels.length, steps: sum((p) => p.steps.length), noops: sum((p) => p.noops.length), conflicts: sum((p) => p.conflicts.length) };
}

interface PlanFlags {
  out: string;
  limit?: string;
  /** `*` in the change list may select every panel (no --limit): said on purpose. */
  all?: boolean;
  codes?: string;
  concurrency?: string;
  allowWeak?: boolean;
}

/**
 * A plan whose every row is unsupported (every panel in it cannot read its users back, say) is not
 * a plan: exit 6 with the first reason (it names what is missing and what works), and no file.
 */
function refuseWhenNothingIsSupported(plan: BulkPlan): void {
  const conflicts = plan.panels.flatMap((p) => p.conflicts);
  const nothingElse = plan.panels.every((p) => p.steps.length === 0 && p.noops.length === 0);
  if (conflicts.length && nothingElse && conflicts.every((c) => c.code === 'E_UNSUPPORTED')) {
    throw new NotSupportedError(`nothing in this change list can be planned: ${conflicts[0].reason}`, { hint: 'nothing was written; no plan file was made' });
  }
}

export async function runPlan(cli: Cli, file: string, flags: PlanFlags): Promise<void> {
  keepHeapNearLive(); // a whole fleet in memory: heap-growth.ts
  const concurrency = count(flags.concurrency, '--concurrency', 1);
  const targets = await inventoryTargets(cli);
  const codes = flags.codes ? await CodeBook.load(flags.codes) : undefined;
  const confirm =
    cli.interactive && !cli.globals.yes ? (question: string) => import('../prompts.js').then(({ askConfirm }) => askConfirm(question)) : undefined;
  const rows = await readChanges(file, {
    drivers: cli.ctx.drivers,
    targets,
    limit: flags.limit,
    codes,
    everyPanel: { all: flags.all || (cli.globals.yes && cli.interactive), confirm },
  });
  const every = rows.filter((r) => r.everyPanel).map((r) => r.row);
  if (every.length)
    cli.out.note(`row${every.length > 1 ? 's' : ''} ${every.join(', ')}: * selects every panel in the inventory (${targets.length}), no --limit`);
  const done = cli.ctx.activity?.(`reading ${new Set(rows.flatMap((r) => r.panels)).size} panels`);
  let plan: BulkPlan;
  try {
    plan = await buildPlan(rows, new Map(targets.map((t) => [t.name, t])), bulkContext(cli), {
      concurrency,
      codes,
      allowWeak: flags.allowWeak,
      source: { file: path.basename(file), rows: rows.length, limit: flags.limit, codesFile: flags.codes ? path.resolve(flags.codes) : undefined },
    });
  } finally {
    done?.();
  }
  refuseWhenNothingIsSupported(plan);
  plan = await writePlan(flags.out, plan, cli.ctx.stateDir);
  const totals = planTotals(plan);
  const panelsJson = plan.panels.map(panelJson);
  cli.out.result(
    { id: plan.id, file: flags.out, totals, panels: panelsJson },
    plan.panels,
    planColumns,
    panelsJson.map((p) => ({ id: plan.id, ...p })),
  );
  cli.out.say(
    `plan ${plan.id} written to ${flags.out}: ${totals.steps} step(s) on ${totals.panels} panel(s), ${totals.noops} no-op(s), ${totals.conflicts} conflict(s)`,
  );
  for (const p of plan.panels.filter((p) => p.steps.some((s) => s.blind))) {
    const blind = p.steps.filter((s) => s.blind).length;
    cli.out.note(
      `${p.panel}: ${blind} step(s) planned blind: the panel cannot list its users, so they are written without checking the slot first, and proven only by the panel's acknowledgement (not read back)`,
    );
  }
  if (totals.conflicts) cli.out.note('conflicts are not applied; fix the change list or the panels and plan again to include them');
  if (totals.conflicts) cli.attention(`${totals.conflicts} conflict(s) in the plan`);
  // The apply needs the same codes file as the plan, when it takes codes from one (issue 19).
  cli.out.note(`apply it with: panelctl bulk apply ${shellWord(flags.out)}${flags.codes ? ` --codes ${shellWord(flags.codes)}` : ''}`);
}

/** A path as a shell word: quoted when it holds anything but safe characters. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

interface ApplyFlags {
  concurrency?: string;
  resume?: boolean;
  shard?: string;
  codesOut?: string;
  reveal?: boolean;
  codes?: string;
  allowWeak?: boolean;
  retries?: string;
}

const outcomeColumns: Column<StepOutcome>[] = [
  { header: 'PANEL', value: (o) => o.panel },
  { header: 'SLOT', value: (o) => o.step.slot, align: 'right' },
  { header: 'ACTION', value: (o) => o.step.action },
  { header: 'STATUS', value: (o) => o.status },
  { header: 'REASON', value: (o) => `${o.code ?? ''} ${o.reason ?? ''}`.trim() },
];

function outcomeJson(o: StepOutcome, reveal: boolean): Record<string, unknown> {
  return {
    panel: o.panel,
    step: o.step.id,
    row: o.step.row,
    action: o.step.action,
    slot: o.step.slot,
    name: o.step.name ?? null,
    status: o.status,
    how: o.how ?? null,
    attempts: o.attempts,
    // A step's error: `errorCode` names it; `code` holds the same value and is the deprecated alias (README "Exit codes").
    errorCode: o.code ?? null,
    code: o.code ?? null,
    reason: o.reason ?? null,
    instruction: o.instruction ?? null,
    ...(o.proof ? proofJson(o.proof) : { verified: null, proof: null }),
    blind: o.step.blind ?? false,
    ...(reveal && o.generated ? { generatedCode: o.generated.reveal() } : {}),
  };
}

/** A one-line progress display on a terminal's stderr, redrawn in place. */
function progressLine(cli: Cli, total: number) {
  let panels = 0;
  let done = 0;
  let failed = 0;
  let retries = 0;
  const draw = () =>
    cli.out.terminal('\r\x1b[2K', cli.out.color.dim(`bulk: ${panels}/${total} panels · ${done} steps done · ${failed} not done · ${retries} retries`));
  return {
    event(event: ApplyEvent) {
      if (event.type === 'panel') panels = event.finished;
      if (event.type === 'retry') retries++;
      if (event.type === 'step') event.outcome.status === 'done' ? done++ : failed++;
      draw();
    },
    clear: () => cli.out.terminal('\r\x1b[2K'),
  };
}

export async function runApply(cli: Cli, file: string, flags: ApplyFlags): Promise<void> {
  keepHeapNearLive(); // a whole fleet in memory: heap-growth.ts
  const concurrency = count(flags.concurrency, '--concurrency', 1);
  const retries = count(flags.retries, '--retries', 0);
  const shard: Shard | undefined = flags.shard ? parseShard(flags.shard) : undefined;
  if (flags.codesOut && flags.reveal) throw new UsageError('choose one of --codes-out FILE and --reveal', { code: 'E_INVALID' });
  if (flags.reveal) checkRevealAllowed(cli);
  const plan = await readPlan(file, cli.ctx.stateDir);
  const scope = panelsInScope(plan, shard);
  const sources = new Set(scope.flatMap((p) => p.steps.map((s) => s.code?.source)));
  if (sources.has('generate') && !flags.codesOut && !flags.reveal) {
    throw new UsageError('the plan generates codes: say where they go with --codes-out FILE (0600) or --reveal (stdout)', { code: 'E_INVALID' });
  }
  const targets = await inventoryTargets(cli);
  const codes = {
    book: flags.codes ? await CodeBook.load(flags.codes) : undefined,
    stdin: sources.has('stdin') ? await readStdinCode(cli.io.stdin) : undefined,
    generated: flags.codesOut ? await GeneratedCodes.open(flags.codesOut, flags.resume ? 'resume' : 'refuse') : undefined,
    allowWeak: flags.allowWeak,
  };

  // Ctrl-C or SIGTERM: finish and verify the writes in flight (so the journal is exact), start no
  // new ones, then exit 130 (143). A second signal leaves at once; --resume settles what was cut.
  const stop = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      cli.out.notice('interrupted again: quitting now; `bulk apply --resume` will settle the steps that were in flight');
      process.exit(signal === 'SIGTERM' ? 143 : ExitCode.cancelled);
    }
    received = signal;
    stop.abort();
    cli.out.warn('interrupted: finishing and verifying the writes in flight, starting no new ones (Ctrl-C again to leave at once)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = cli.out.interactive ? progressLine(cli, scope.length) : undefined;
  const reveal = Boolean(flags.reveal);
  let report: ApplyReport;
  try {
    report = await applyPlan(plan, new Map(targets.map((t) => [t.name, t])), bulkContext(cli), {
      stop: stop.signal,
      concurrency,
      resume: Boolean(flags.resume),
      shard,
      retries,
      backoffMs: 250,
      maxBackoffMs: 5000,
      codes,
      onEvent(event) {
        progress?.event(event);
        if (event.type === 'step') cli.out.event({ event: 'step', ...outcomeJson(event.outcome, reveal) });
        else cli.out.event({ event: event.type, ...event, type: undefined });
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress?.clear();
  }

  const totals = { done: 0, skipped: 0, failed: 0 };
  for (const o of report.outcomes) totals[o.status]++;
  const conflicts = plan.panels.filter((p) => inShard(p.panel, shard)).reduce((n, p) => n + p.conflicts.length, 0);
  const unfinished = report.outcomes.filter((o) => o.status !== 'done');
  const generated = report.outcomes.filter((o) => o.generated);
  const byHand = report.outcomes.filter((o) => o.instruction);
  const acknowledged = report.outcomes.filter((o) => o.proof === 'panel-ack');

  if (cli.out.format === 'json') {
    cli.out.result(
      {
        planId: plan.id,
        shard: flags.shard ?? null,
        journal: report.journal,
        totals: { ...totals, conflictsInPlan: conflicts, checkByHand: byHand.length },
        interrupted: received ?? null,
        codesOut: flags.codesOut ?? null,
        steps: report.outcomes.map((o) => outcomeJson(o, reveal)),
      },
      undefined,
      undefined,
    );
  } else if (cli.out.format === 'ndjson') {
    cli.out.event({
      event: 'summary',
      planId: plan.id,
      shard: flags.shard ?? null,
      journal: report.journal,
      ...totals,
      conflictsInPlan: conflicts,
      checkByHand: byHand.length,
      interrupted: received ?? null,
    });
  } else {
    cli.out.result(
      {},
      [
        { status: 'done', n: totals.done },
        { status: 'skipped', n: totals.skipped },
        { status: 'failed', n: totals.failed },
        { status: 'conflicts in plan (not applied)', n: conflicts },
      ],
      [
        { header: 'STATUS', value: (r: { status: string }) => r.status },
        { header: 'STEPS', value: (r: { n: number }) => r.n, align: 'right' },
      ],
    );
    if (unfinished.length) {
      cli.out.say('');
      cli.out.result({}, unfinished, outcomeColumns);
    }
    if (acknowledged.length) {
      cli.out.say(`\n${acknowledged.length} step(s) acknowledged by the panel, not read back (the panel cannot read users; try new codes at the keypad):`);
      for (const o of acknowledged) cli.out.say(`  - ${o.panel} slot ${o.step.slot} (${o.step.action})`);
    }
    if (byHand.length) {
      cli.out.say(`\n${byHand.length} step(s) need a person (running --resume again will not settle them):`);
      for (const o of byHand) cli.out.say(`  - ${o.panel} slot ${o.step.slot} (${o.step.action}): ${o.instruction}`);
    }
    if (reveal && generated.length) {
      cli.out.say('\ngenerated codes (shown once, kept nowhere):');
      cli.out.result({}, generated, [
        { header: 'PANEL', value: (o: StepOutcome) => o.panel },
        { header: 'SLOT', value: (o: StepOutcome) => o.step.slot, align: 'right' },
        { header: 'NAME', value: (o: StepOutcome) => o.step.name ?? '' },
        { header: 'CODE', value: (o: StepOutcome) => (o.generated as Secret).reveal() },
      ]);
    }
  }
  if (report.delivered) cli.out.note(`generated codes: ${report.delivered.applied} applied, ${report.delivered.unconfirmed} unconfirmed, in ${flags.codesOut}`);
  for (const file of report.evidenceFiles) cli.out.note(`codes saved by an earlier run were settled in ${file}`);
  cli.out.note(`journal: ${report.journal}`);
  const again = [
    'panelctl bulk apply',
    file,
    '--resume',
    ...(flags.shard ? ['--shard', flags.shard] : []),
    ...(flags.codesOut ? ['--codes-out', flags.codesOut] : []),
    ...(flags.codes ? ['--codes', flags.codes] : []),
  ].join(' ');
  if (received) {
    const skipped = report.outcomes.filter((o) => o.code === 'E_INTERRUPTED').length;
    cli.out.warn(`interrupted (${received}): the writes in flight were finished and journalled; ${skipped} step(s) not started. Continue with: ${again}`);
    process.exitCode = received === 'SIGTERM' ? 143 : ExitCode.cancelled;
  } else if (unfinished.length) {
    const fixable = unfinished.length - byHand.length;
    const next = fixable ? `; fix what the reasons say, then: ${again}` : '';
    cli.out.warn(
      `${unfinished.length} of ${report.outcomes.length} step(s) not done (exit 7)${byHand.length ? `, ${byHand.length} of them to be checked by hand (see above)` : ''}${next}`,
    );
    process.exitCode = ExitCode.partial;
  }
  if (conflicts) cli.attention(`${conflicts} row(s) of the plan conflicted and were not applied`);
}

const statusColumns: Column<StepStatusRow>[] = [
  { header: 'PANEL', value: (s) => s.panel },
  { header: 'SLOT', value: (s) => s.slot, align: 'right' },
  { header: 'ACTION', value: (s) => s.action },
  { header: 'STATE', value: (s) => s.state },
  { header: 'REASON', value: (s) => s.reason ?? '' },
];

export async function runStatus(cli: Cli, file: string, flags: { shard?: string }): Promise<void> {
  const plan = await readPlan(file, cli.ctx.stateDir);
  const status = await planStatus(plan, cli.ctx.stateDir, flags.shard ? parseShard(flags.shard) : undefined);
  const notDone = status.steps.filter((s) => s.state !== 'done');
  if (status.counts.failed) cli.attention(`${status.counts.failed} step(s) failed`);
  if (cli.out.machine) {
    cli.out.result(
      {
        planId: plan.id,
        running: status.running,
        runs: status.runs.map((r) => ({ pid: r.pid, host: r.host, shard: r.shard, since: r.since, operator: r.operator ?? null })),
        journals: status.journals,
        counts: status.counts,
        steps: status.steps,
      },
      undefined,
      undefined,
      status.steps.map((s) => ({ planId: plan.id, ...s })),
    );
    return;
  }
  cli.out.say(
    `plan ${plan.id}: ${status.counts.done} done, ${status.counts.failed} failed, ${status.counts['in flight']} in flight, ${status.counts.pending} pending`,
  );
  for (const run of status.runs) cli.out.say(`an apply is running now: ${describeClaim(run)}`);
  if (!status.running && status.counts['in flight'])
    cli.out.note(`no apply is running: the steps in flight were cut off; \`panelctl bulk apply ${file} --resume\` settles them on the panels`);
  if (notDone.length) cli.out.result({}, notDone, statusColumns);
  if (!status.journals.length) cli.out.note('no journal yet: this plan has not been applied here');
}
