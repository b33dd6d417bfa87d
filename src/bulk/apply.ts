import path from 'node:path';
import type { DriverInfo, PanelSession, Proof } from '../core/contract.js';
import { PanelRefusedError, PanelctlError, ExitCode, UsageError, ValidationError, WrongCredentialError, isTransient, toPanelctlError } from '../core/errors.js';
import { checkCode, generateCode } from '../core/code-policy.js';
import type { Secret } from '../core/secret.js';
import type { Target } from '../inventory/targets.js';
import type { OperationContext } from '../operations/context.js';
import type { OpenPanel } from '../operations/session.js';
import {
  audited,
  changeCodeStep,
  codePolicyFor,
  createUserStep,
  duressGuard,
  readerOf,
  removeUserStep,
  requireUser,
  type BeforeWrite,
  type ProvenWrite,
} from '../operations/user-steps.js';
import { defaultAccess, type PanelAccess } from './access.js';
import { GeneratedCodes, type CodeBook } from './codes.js';
import { claimPanels } from './claims.js';
import { Connections } from './connections.js';
import { Journal, journalFile, planDir, readJournal, type StepRecord } from './journal.js';
import { proveCode, settlesByAsking, uncertain, type Found } from './settle.js';
import { OtherPlans } from './unsettled.js';
import { factsOf, type BulkPlan, type PanelPlan, type PlanStep } from './plan.js';
import { inShard, type Shard } from './shard.js';

/**
 * `bulk apply`: panels in parallel (bounded), each panel's steps in order on one connection.
 * Every write is journalled before it is sent and after it is proven, so a run can be
 * resumed after anything, including kill -9, without writing the same change twice: a step
 * that was in flight is first looked for on the panel (reconcile) and only written if absent.
 */

export type StepStatus = 'done' | 'skipped' | 'failed';

/** Failures only a person can settle: resuming will not change them. */
const NEEDS_A_PERSON = new Set(['E_UNCERTAIN', 'E_CODE_LOST']);

/**
 * A step whose last attempt the panel refused at the write itself: a code another user holds (INTEGRA's result 0x05,
 * a Modbus device's illegal value on the code registers, a DSC's "Code In Use"). Only that refusal: the others
 * (a name changed, a wrong credential at the code check) can come after a write that landed.
 */
function refusedOutright(record: StepRecord | undefined): boolean {
  return record?.last.event === 'failed' && record.last.error?.code === 'E_CODE_REJECTED';
}

export interface StepOutcome {
  panel: string;
  step: PlanStep;
  status: StepStatus;
  /** done: "written", "found on the panel" (in flight when interrupted) or "done earlier". */
  how?: string;
  reason?: string;
  code?: string;
  attempts: number;
  /** A code generated in this run for this step (delivered by the caller, never logged). */
  generated?: Secret;
  /** What a person must do, when panelctl cannot settle this step by itself (printed in every format). */
  instruction?: string;
  /** done by this run: how the write (or, on a resume, the step found on the panel) was proven. */
  proof?: Proof;
}

export type ApplyEvent =
  | { type: 'step'; outcome: StepOutcome }
  | { type: 'retry'; panel: string; step: string; attempt: number; delayMs: number; code: string; reason: string }
  | { type: 'panel'; panel: string; finished: number; total: number };

export interface CodeSupply {
  book?: CodeBook;
  stdin?: Secret;
  /** --codes-out; without it generated codes are only returned in the outcomes (--reveal). */
  generated?: GeneratedCodes;
  allowWeak?: boolean;
}

export interface ApplyOptions {
  concurrency: number;
  resume: boolean;
  shard?: Shard;
  /** Further attempts after a transient failure (timeout, busy, lost connection). */
  retries: number;
  backoffMs: number;
  maxBackoffMs: number;
  codes: CodeSupply;
  access?: PanelAccess;
  onEvent?: (event: ApplyEvent) => void;
  /**
   * Stops the run between steps (first Ctrl-C, SIGTERM): writes in flight finish and are
   * verified and journalled; no new step starts. Unlike ctx.signal it never cuts a write short.
   */
  stop?: AbortSignal;
}

export interface ApplyReport {
  planId: string;
  journal: string;
  panels: number;
  outcomes: StepOutcome[];
  /** With --codes-out: how many generated codes are in force, and how many may be. */
  delivered?: { applied: number; unconfirmed: number };
  /** Earlier codes files whose saved codes this run settled (a resume with another --codes-out). */
  evidenceFiles: string[];
}

/** The panels (with steps) this run is responsible for. */
export function panelsInScope(plan: BulkPlan, shard: Shard | undefined): PanelPlan[] {
  return plan.panels.filter((p) => p.steps.length > 0 && inShard(p.panel, shard));
}

export async function applyPlan(plan: BulkPlan, targets: Map<string, Target>, ctx: OperationContext, options: ApplyOptions): Promise<ApplyReport> {
  const access = options.access ?? defaultAccess;
  const panels = panelsInScope(plan, options.shard);
  await checkSuppliedCodes(panels, targets, access, options.codes, ctx);

  const dir = planDir(ctx.stateDir, plan.id);
  const shard = options.shard ? `${options.shard.index}/${options.shard.count}` : null;
  const release = await claimPanels(
    dir,
    panels.map((p) => p.panel),
    { shard, operator: ctx.operator, ticket: ctx.ticket },
  );
  try {
    // Read under the claim: no other run can add to these panels' steps now.
    const history = await readJournal(dir);
    const ours = new Set(panels.flatMap((p) => p.steps.map((s) => s.id)));
    const touched = [...history.keys()].filter((id) => ours.has(id)).length;
    if (touched > 0 && !options.resume) {
      throw new UsageError(`this plan was applied before (${touched} of this run's step(s) are in its journal, ${dir}); nothing was done`, {
        code: 'E_APPLIED_BEFORE',
        hint: 'add --resume to continue it: steps done under any shard are skipped, and steps in flight are checked on the panel first',
      });
    }
    const elsewhere = new OtherPlans(ctx.stateDir, plan.id, history);
    const journal = await Journal.open(journalFile(dir, options.shard));
    const evidence = new EvidenceFiles(options.codes.generated);
    const connections = new Connections(options.concurrency);
    const run: RunContext = { plan, ctx, options, access, journal, history, evidence, elsewhere, connections, stopped: whenStopped(options.stop) };
    try {
      // A panel whose last exchange is over keeps its worker, not its connection, while its audit entry and
      // journal line are written: at most `concurrency` panels more than are connected are in hand at once.
      const results = await eachPanel(panels, 2 * options.concurrency, async (panel, finished) => {
        const outcomes = await new PanelRun(run, panel, targets.get(panel.panel)).run();
        options.onEvent?.({ type: 'panel', panel: panel.panel, finished: finished(), total: panels.length });
        return outcomes;
      });
      const delivered = await options.codes.generated?.finish();
      const evidenceFiles = await evidence.finish();
      return { planId: plan.id, journal: dir, panels: panels.length, outcomes: results.flat(), delivered, evidenceFiles };
    } finally {
      await journal.close();
    }
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * Runs `work` on every panel, `workers` at a time, results in the panels' order. A pool of
 * workers that each take the next panel: nothing is queued per panel up front (with p-limit,
 * 10,000 panels held 10,000 pending promises and closures from the start, issue 20). After a
 * failure no further panel is started, and the failure is thrown once the running ones end.
 */
async function eachPanel<T>(panels: PanelPlan[], workers: number, work: (panel: PanelPlan, finished: () => number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(panels.length);
  let next = 0;
  let done = 0;
  let failure: { error: unknown } | undefined;
  const finished = () => ++done;
  const worker = async () => {
    while (!failure && next < panels.length) {
      const index = next++;
      try {
        results[index] = await work(panels[index], finished);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, panels.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

/**
 * The codes files that hold the evidence for steps in flight: this run's --codes-out, and the
 * file an earlier run saved a step's code in before sending it (the journal names it), when a
 * resume was given another --codes-out. A code proven on the panel is marked applied in the
 * file that holds it.
 */
class EvidenceFiles {
  private readonly others = new Map<string, Promise<GeneratedCodes>>();

  constructor(private readonly current: GeneratedCodes | undefined) {}

  async for(record: StepRecord | undefined): Promise<GeneratedCodes | undefined> {
    const file = record?.codesFile;
    if (!file || (this.current && path.resolve(this.current.file) === file)) return this.current;
    let book = this.others.get(file);
    if (!book) {
      book = GeneratedCodes.open(file, true).catch(() => undefined as unknown as GeneratedCodes);
      this.others.set(file, book);
    }
    return (await book) ?? this.current;
  }

  async finish(): Promise<string[]> {
    const files: string[] = [];
    for (const [file, book] of this.others) {
      const opened = await book;
      if (!opened) continue;
      await opened.finish();
      files.push(file);
    }
    return files;
  }
}

/**
 * A promise that settles when the run is stopped: ONE listener on the stop signal, shared by
 * every panel's retry pauses (a listener per sleeper is what set off Node's
 * MaxListenersExceededWarning with more than ten panels at once).
 */
function whenStopped(stop: AbortSignal | undefined): Promise<void> {
  if (!stop) return new Promise(() => undefined);
  if (stop.aborted) return Promise.resolve();
  return new Promise((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }));
}

/** A pause before a retry that ends early when the run is stopped. */
async function pause(ms: number, stopped: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), stopped]);
  clearTimeout(timer);
}

/**
 * Codes from the codes file or stdin are checked against every panel's policy before any
 * panel is touched: a weak code is a mistake in the input, so nothing is done (exit 2).
 */
async function checkSuppliedCodes(
  panels: PanelPlan[],
  targets: Map<string, Target>,
  access: PanelAccess,
  codes: CodeSupply,
  ctx: OperationContext,
): Promise<void> {
  const problems: string[] = [];
  for (const panel of panels) {
    const target = targets.get(panel.panel);
    if (!target) continue;
    let info: DriverInfo | undefined;
    for (const step of panel.steps) {
      if (!step.code || step.code.source === 'generate') continue;
      if (step.code.source === 'stdin' && !codes.stdin)
        throw new ValidationError('stdin', 'the plan has rows whose code comes from standard input; pipe the code in');
      if (step.code.source === 'codes' && !codes.book)
        throw new ValidationError('--codes', 'the plan takes codes from a codes file; give the same --codes FILE as for `bulk plan`');
      info ??= await access.describe(target, ctx);
      const code = step.code.source === 'stdin' ? (codes.stdin as Secret) : (codes.book as CodeBook).get(step.code.column, step.code.row);
      try {
        checkCode(
          code,
          codePolicyFor(info, target, { allowWeak: codes.allowWeak }),
          step.code.source === 'stdin' ? 'code from stdin' : `codes file column "${step.code.column}" row ${step.code.row}`,
        );
      } catch (error) {
        problems.push(`${panel.panel} slot ${step.slot}: ${(error as Error).message}`);
      }
    }
  }
  if (problems.length) {
    throw new ValidationError('code', `${problems.length} step(s) have a code this panel's policy refuses`, {
      hint: `nothing was done:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      data: { problems },
    });
  }
}

interface RunContext {
  plan: BulkPlan;
  ctx: OperationContext;
  options: ApplyOptions;
  access: PanelAccess;
  journal: Journal;
  history: Map<string, StepRecord>;
  evidence: EvidenceFiles;
  /** Other plans' applies cut off mid-write: their panels are left alone until they are resumed. */
  elsewhere: OtherPlans;
  /** --concurrency: panels connected at once. */
  connections: Connections;
  stopped: Promise<void>;
}

/** One panel's share of the run: one connection, steps in order, stop on a refused credential. */
class PanelRun {
  private open?: OpenPanel;
  /** Whether this panel holds one of the run's connections (from before connecting until hung up). */
  private connection = false;
  /** The connection being closed after the panel's last exchange (the work lock stays held). */
  private hangingUp?: Promise<void>;
  private stopped?: { code: string; reason: string };

  constructor(
    private readonly shared: RunContext,
    private readonly plan: PanelPlan,
    private readonly target: Target | undefined,
  ) {}

  async run(): Promise<StepOutcome[]> {
    const outcomes: StepOutcome[] = [];
    const changed = this.inventoryChange();
    if (changed) this.stopped = { code: 'E_INVENTORY_CHANGED', reason: changed };
    try {
      for (const step of this.plan.steps) {
        const outcome = await this.runStep(step);
        outcomes.push(outcome);
        this.shared.options.onEvent?.({ type: 'step', outcome });
      }
    } finally {
      await this.disconnect();
    }
    return outcomes;
  }

  private inventoryChange(): string | undefined {
    if (!this.target) return `panel "${this.plan.panel}" is no longer in the inventory; plan again`;
    const now = JSON.stringify(factsOf(this.target));
    return now === JSON.stringify(this.plan.facts)
      ? undefined
      : `panel "${this.plan.panel}" changed in the inventory since the plan (driver, link or options); plan again`;
  }

  private outcome(step: PlanStep, status: StepStatus, attempts: number, extra: Partial<StepOutcome> = {}): StepOutcome {
    return { panel: this.plan.panel, step, status, attempts, ...extra };
  }

  private async runStep(step: PlanStep): Promise<StepOutcome> {
    const record = this.shared.history.get(step.id);
    const codes = step.code?.source === 'generate' ? await this.shared.evidence.for(record) : undefined;
    if (record?.last.event === 'done') {
      codes?.mark(this.plan.panel, step.slot, 'applied');
      return this.outcome(step, 'done', 0, { how: 'done earlier' });
    }
    if (this.stopped) return this.outcome(step, 'skipped', 0, { code: this.stopped.code, reason: this.stopped.reason });
    if (this.shared.options.stop?.aborted)
      return this.outcome(step, 'skipped', 0, { code: 'E_INTERRUPTED', reason: 'the run was interrupted before this step' });

    const target = this.target as Target;
    const { journal, options } = this.shared;
    // A step started before (by a run that died, or by an attempt that failed) may have landed; one whose write the
    // panel refused outright did not (its drawn code was dropped from --codes-out then): it is written afresh.
    let inDoubt = Boolean(record?.started) && !refusedOutright(record);
    let code: Secret | undefined;
    let fresh = false;
    for (let attempt = 1; ; attempt++) {
      try {
        const { session, info } = await this.connect();
        code ??= this.existingCode(step, codes);
        if (inDoubt) {
          const found = await this.reconcile(session, info, step, code);
          if (found === 'landed' && step.code?.source === 'generate' && !code) {
            throw new PanelRefusedError(
              'E_CODE_LOST',
              `slot ${step.slot} was changed before the interruption, but its generated code was not saved (no --codes-out)`,
              {
                hint: `give slot ${step.slot} on ${this.plan.panel} a new code: panelctl users set-code --panel ${this.plan.panel} --slot ${step.slot}`,
              },
            );
          }
          if (found === 'landed') {
            this.lastExchangeOver(step);
            // The question that settled it: the code checker for a code, the slot read back for an add or remove.
            const proof = step.action === 'set-code' ? 'code-check' : 'read-back';
            await this.audit(step, 'found on the panel after an interruption', async () => ({ proof }) as const);
            await journal.append({
              step: step.id,
              panel: this.plan.panel,
              event: 'done',
              slot: step.slot,
              action: step.action,
              attempt,
              how: 'found on the panel',
            });
            codes?.mark(this.plan.panel, step.slot, 'applied');
            return this.outcome(step, 'done', attempt, { how: 'found on the panel', generated: fresh ? code : undefined, proof });
          }
          if (found === 'unknown') throw uncertain(this.plan.panel, info, step, codes?.file);
          // Proven absent: nothing of it landed, so it is written now (with the code saved for it, if any).
          inDoubt = false;
        }
        if (!code && step.code) {
          code = generateCode({ ...codePolicyFor(info, target), ...this.duress() });
          fresh = true;
          await codes?.pending(this.plan.panel, step.slot, step.name, code);
        }
        // Before anything is journaled as started: a code next to another one is refused, not tried.
        if (code) checkCode(code, { ...codePolicyFor(info, target, { allowWeak: true }), ...this.duress() }, `code for slot ${step.slot}`);
        const codesFile = code && codes && step.code?.source === 'generate' ? path.resolve(codes.file) : undefined;
        // 'started' goes to the disk while the step asks its first question (whose slot it is); the
        // write itself is sent only once the line is synced (user-steps.ts beforeWrite). A step that
        // fails before its write leaves a 'started' that resume settles by asking, like one cut off.
        const started = journal.append({ step: step.id, panel: this.plan.panel, event: 'started', slot: step.slot, action: step.action, attempt, codesFile });
        started.catch(() => undefined); // the write awaits it and reports its failure
        inDoubt = true;
        const { proof } = await this.audit(step, undefined, async () => {
          const written = await this.write(session, info, step, code, () => started);
          this.lastExchangeOver(step);
          return written;
        });
        if (code) this.written.push(code);
        // Synced with the next group when losing it would only make a resume ask the panel (journal.ts).
        await journal.append(
          { step: step.id, panel: this.plan.panel, event: 'done', slot: step.slot, action: step.action, attempt, how: 'written' },
          { durable: !settlesByAsking(step, session, proof, codesFile !== undefined) },
        );
        codes?.mark(this.plan.panel, step.slot, 'applied');
        return this.outcome(step, 'done', attempt, { how: 'written', generated: fresh ? code : undefined, proof });
      } catch (error) {
        const failure = toPanelctlError(error);
        await this.disconnect();
        const retry = isTransient(failure) && attempt <= options.retries && !options.stop?.aborted;
        if (retry) {
          const delayMs = Math.round(Math.min(options.maxBackoffMs, options.backoffMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
          options.onEvent?.({ type: 'retry', panel: this.plan.panel, step: step.id, attempt, delayMs, code: failure.code, reason: failure.message });
          await pause(delayMs, this.shared.stopped);
          if (!options.stop?.aborted) continue;
        }
        return this.fail(step, attempt, failure, codes);
      }
    }
  }

  private async fail(step: PlanStep, attempts: number, failure: PanelctlError, codes: GeneratedCodes | undefined): Promise<StepOutcome> {
    // Not waited for on disk: without it a resume takes the same path (a started step is asked about anyway).
    await this.shared.journal.append(
      {
        step: step.id,
        panel: this.plan.panel,
        event: 'failed',
        slot: step.slot,
        action: step.action,
        attempt: attempts,
        error: { code: failure.code, message: failure.message },
      },
      { durable: false },
    );
    // A refusal means the panel did not take it; anything else leaves the code possibly in force.
    if (failure instanceof PanelRefusedError && !NEEDS_A_PERSON.has(failure.code)) codes?.drop(this.plan.panel, step.slot);
    else codes?.mark(this.plan.panel, step.slot, 'unconfirmed');

    if (failure instanceof WrongCredentialError) {
      this.stopped = {
        code: failure.code,
        reason: 'not attempted: this panel refused the credential earlier in the run (never retried, to avoid a keypad lockout)',
      };
    } else if (failure.exitCode === ExitCode.unreachable) {
      this.stopped = { code: failure.code, reason: `not attempted: the panel could not be reached (${failure.message})` };
    }
    const instruction = NEEDS_A_PERSON.has(failure.code) ? failure.hint : undefined;
    return this.outcome(step, 'failed', attempts, { code: failure.code, reason: failure.message, instruction });
  }

  /** A code that is already decided: from the codes file or stdin, or drawn (and saved) by an earlier run. */
  private existingCode(step: PlanStep, generated: GeneratedCodes | undefined): Secret | undefined {
    const { codes } = this.shared.options;
    switch (step.code?.source) {
      case 'codes':
        return codes.book?.get(step.code.column, step.code.row);
      case 'stdin':
        return codes.stdin;
      case 'generate':
        return generated?.earlier(this.plan.panel, step.slot);
      default:
        return undefined;
    }
  }

  /** Codes written on this panel in this run: with the credential, what a new code must not sit next to. */
  private written: Secret[] = [];

  private duress() {
    return duressGuard(this.target as Target, [...(this.open?.secrets ?? []), ...this.written]);
  }

  private checkedOthers = false;

  /**
   * Connects (once one of the run's connections is free, then taking the panel's work lock); the
   * first time, makes sure no other plan was cut off on it.
   */
  private async connect(): Promise<OpenPanel> {
    if (this.open) return this.open;
    await this.shared.connections.take();
    this.connection = true;
    try {
      this.open = await this.shared.access.open(this.target as Target, this.shared.ctx);
    } catch (error) {
      this.giveConnection();
      throw error;
    }
    if (!this.checkedOthers) {
      this.checkedOthers = true;
      const reason = await this.shared.elsewhere
        .cutOffOn(this.plan.panel)
        .catch((error: Error) => `could not read the other plans' journals (${error.message})`);
      if (reason) {
        await this.disconnect();
        this.stopped = { code: 'E_UNSETTLED', reason: `not attempted: ${reason}` };
        throw new PanelctlError(ExitCode.partial, 'E_UNSETTLED', reason);
      }
    }
    return this.open;
  }

  private giveConnection(): void {
    if (!this.connection) return;
    this.connection = false;
    this.shared.connections.give();
  }

  /**
   * After the panel's last step has had its last answer: the connection is closed and given to the
   * next panel while this one's audit entry and journal line are written. The work lock is kept until
   * disconnect(), after both: no other process may act on the panel before its last write is on
   * record (an audit in the order the writes were made; no plan seen cut off on it).
   */
  private lastExchangeOver(step: PlanStep): void {
    const open = this.open;
    if (step !== this.plan.steps.at(-1) || !open?.hangUp || this.hangingUp) return;
    this.hangingUp = open
      .hangUp()
      .catch(() => undefined)
      .finally(() => this.giveConnection());
  }

  /** Closes the connection (if still open), releases the work lock, then gives the connection back. */
  private async disconnect(): Promise<void> {
    const open = this.open;
    const hangingUp = this.hangingUp;
    this.open = undefined;
    this.hangingUp = undefined;
    await hangingUp;
    await open?.close().catch(() => undefined);
    this.giveConnection();
  }

  private write(session: PanelSession, info: DriverInfo, step: PlanStep, code: Secret | undefined, started: BeforeWrite): Promise<ProvenWrite> {
    // A blind step saw nobody in its slot when planned: there is no user to insist on (users set-code --slot on a VISTA).
    const expectName = step.blind ? undefined : (step.name ?? '');
    switch (step.action) {
      case 'add':
        return createUserStep(
          session,
          info,
          { slot: step.slot, name: step.name ?? '', code: code as Secret, partitions: step.partitions, type: step.type },
          started,
        );
      case 'set-code':
        return changeCodeStep(session, info, step.slot, code as Secret, expectName, started);
      case 'remove':
        return removeUserStep(session, info, step.slot, { name: expectName, changedWhile: 'since the plan was made' }, started);
    }
  }

  /**
   * Did an interrupted step land? Asked of the panel, with the strongest proof its driver has.
   * add: the planned user is in the slot (a slot empty again proves it did not). remove: the
   * planned user is gone. set-code: the panel checks the saved code (INTEGRA: which user owns it;
   * Modbus: the code registers read back); a check that finds the code absent proves the write
   * never landed. A driver that cannot check codes (DSC) leaves it unknown: a person decides.
   */
  private async reconcile(session: PanelSession, info: DriverInfo, step: PlanStep, code: Secret | undefined): Promise<Found> {
    // A panel that cannot read users back (VISTA, blind steps) cannot be asked: as with a DSC code, a person decides.
    if (!session.reader) return 'unknown';
    const reader = readerOf(session, info, 'settle an interrupted step');
    const user = await reader.readUser(step.slot);
    const planned = (step.name ?? '').trim();
    const holdsPlanned = user !== undefined && (user.name ?? '').trim() === planned;
    if (step.action === 'remove') return holdsPlanned ? 'absent' : 'landed';
    if (step.action === 'add') {
      if (!user) return 'absent';
      if (holdsPlanned) return 'landed';
      throw new PanelRefusedError('E_SLOT_TAKEN', `slot ${step.slot} is now taken by "${user.name ?? ''}"; nothing was written`, { data: { slot: step.slot } });
    }
    await requireUser(reader, step.slot);
    if (!holdsPlanned)
      throw new PanelRefusedError('E_CHANGED', `slot ${step.slot} changed since the plan was made (now "${user?.name ?? ''}"); nothing was written`);
    if (!code) return 'unknown';
    return proveCode(session, step.slot, code);
  }

  private audit<T extends { proof: Proof }>(step: PlanStep, how: string | undefined, work: () => Promise<T>): Promise<T> {
    const details: Record<string, string> = { bulkPlan: this.shared.plan.id, step: step.id };
    if (how) details.how = how;
    return audited(
      this.shared.ctx,
      { panel: this.plan.panel, driver: this.target?.driver, action: `users.${step.action}`, slot: step.slot, name: step.name, details },
      work,
      { proofOf: (done) => done.proof },
    );
  }
}
