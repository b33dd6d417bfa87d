import { randomUUID } from 'node:crypto';
import type { DriverInfo, TestState } from '../core/contract.js';
import { NotSupportedError, PanelRefusedError, UsageError, ValidationError, VerificationError, toPanelctlError, type PanelctlError } from '../core/errors.js';
import type { Target } from '../inventory/targets.js';
import type { StationAdapter, StationNotice } from '../station/index.js';
import { LOCKED, isOverdue, listLeases, readLease, removeLease, withLeaseLock, writeLease, type Lease } from '../state/leases.js';
import { appendAudit, prepareAudit } from '../audit/log.js';
import type { OperationContext } from './context.js';
import { describeTarget, withPanel } from './session.js';

/**
 * Test mode has two halves that must always end together: the monitoring station's "on test"
 * for the account, and the panel's own test mode where its protocol has one. Start tells the
 * station first (a panel on test that the station does not know about would call the guards);
 * stop ends the panel first (a station back on watch while the panel is still on test would
 * miss a real alarm... or get a test one). The lease on disk is what makes a forgotten test visible.
 */

export interface TestModeDeps {
  /** The station adapter for a panel (the CLI decides how manual confirmation works). */
  station(target: Target): Promise<StationAdapter>;
  /** Resolves a panel named in a lease (sweep, status --check). */
  resolve?(panel: string): Promise<Target>;
}

export interface StartOptions {
  durationMs: number;
  reason?: string;
}

export interface StartResult {
  lease: Lease;
  /** Whether the panel itself was put on test (false: its protocol has no test mode). */
  panelSwitched: boolean;
  panelState?: TestState;
}

function supportsTestMode(driver: DriverInfo): boolean {
  return driver.capabilities.includes('test-mode');
}

function notice(lease: Lease, event: StationNotice['event'], until = lease.until): StationNotice {
  return {
    event,
    account: lease.account ?? '',
    panel: lease.panel,
    customer: lease.customer,
    from: lease.from,
    until,
    operator: lease.operator,
    ticket: lease.ticket,
    reason: lease.reason,
    lease: lease.id,
    sentAt: new Date().toISOString(),
  };
}

async function audit(ctx: OperationContext, lease: Lease, action: string, failure?: PanelctlError, details: Record<string, string | number | boolean> = {}): Promise<void> {
  await appendAudit(ctx.stateDir, {
    operator: ctx.operator,
    ticket: ctx.ticket ?? lease.ticket,
    panel: lease.panel,
    driver: lease.driver,
    action,
    outcome: failure ? (failure instanceof PanelRefusedError ? 'refused' : 'failed') : 'ok',
    ...(failure ? { error: { code: failure.code, message: failure.message } } : {}),
    details: { lease: lease.id, until: lease.until, station: lease.station, panelTest: lease.panelTest, ...details },
  });
}

function checkStartable(target: Target): void {
  if (!target.demo && target.name === target.link.url) {
    throw new UsageError('test mode needs a panel from the inventory (its station and account), not an ad hoc --link', { code: 'E_INVALID' });
  }
  if (target.station?.type !== 'none' && !target.account) {
    throw new ValidationError(`panel "${target.name}", field "account"`, 'is required for test mode: it is the number the monitoring station knows the panel by');
  }
}

/** Station on test, then the panel; a failure on the panel rolls the station back. */
export async function startTestMode(target: Target, ctx: OperationContext, deps: TestModeDeps, options: StartOptions): Promise<StartResult> {
  checkStartable(target);
  const minutes = options.durationMs / 60_000;
  if (!(options.durationMs >= 1000) || minutes > 24 * 60) throw new ValidationError('--for', 'must be between 1s and 24h');
  const driver = await describeTarget(target);
  await prepareAudit(ctx.stateDir);
  // Before the station hears anything: can this panel go on test at all, and is it there?
  // (A separate connection: the station may take a person's confirmation, too long to hold a panel.)
  if (supportsTestMode(driver)) await checkPanelCanTest(target, ctx);
  const station = await deps.station(target);
  const result = await withLeaseLock(ctx.stateDir, target.name, true, async () => {
    const existing = await readLease(ctx.stateDir, target.name);
    if (existing) {
      const state = isOverdue(existing) ? `overdue since ${existing.until}` : `until ${existing.until}`;
      throw new PanelRefusedError('E_ALREADY_ON_TEST', `${target.name} is already on test (${state}, by ${existing.operator}${existing.ticket ? `, ticket ${existing.ticket}` : ''})`, {
        hint: `end it first: panelctl test-mode stop --panel ${target.name}`,
      });
    }
    const from = new Date();
    const lease: Lease = {
      v: 1,
      id: randomUUID(),
      panel: target.name,
      driver: target.driver,
      account: target.account,
      customer: target.customer,
      from: from.toISOString(),
      until: new Date(from.getTime() + options.durationMs).toISOString(),
      operator: ctx.operator,
      ticket: ctx.ticket,
      reason: options.reason,
      station: station.kind,
      stationOnTest: false,
      panelTest: supportsTestMode(driver) ? 'pending' : 'none',
      phase: 'starting',
    };
    // On disk before anything is switched: a crash from here on leaves a lease to find and end.
    await writeLease(ctx.stateDir, lease);
    try {
      await station.notify(notice(lease, 'test.start'));
    } catch (error) {
      const failure = toPanelctlError(error);
      await removeLease(ctx.stateDir, target.name);
      await audit(ctx, lease, 'test-mode.start', failure, { failedAt: 'station' });
      throw failure;
    }
    lease.stationOnTest = true;
    await writeLease(ctx.stateDir, lease);

    let panelState: TestState | undefined;
    if (lease.panelTest === 'pending') {
      try {
        panelState = await withPanel(target, ctx, async ({ session }) => {
          if (!session.testMode) throw new VerificationError('the driver says it has test mode but the session offers none');
          // The exact window: drivers round to what their panel counts in (Modbus profiles: seconds or minutes).
          const state = await session.testMode.start({ minutes });
          if (!state.active) throw new VerificationError('the panel accepted the test-mode command but reads back as not on test');
          return state;
        });
      } catch (error) {
        const failure = toPanelctlError(error);
        // Only a panel known to be off may have its station taken off test: a panel on test under a
        // watching station turns the test into a real call-out.
        if (await panelIsOff(target, ctx, failure)) {
          await rollBackStation(ctx, station, lease, failure);
        } else {
          lease.problem = `the panel did not confirm test mode (${failure.message}) and could not be confirmed off either; the station stays on test until this lease is stopped or swept`;
          await writeLease(ctx.stateDir, lease);
        }
        await audit(ctx, lease, 'test-mode.start', failure, { failedAt: 'panel' });
        throw failure;
      }
      lease.panelTest = 'on';
      lease.panelMode = panelState.mode;
      lease.panelEndsAt = panelState.endsAt;
    }
    lease.phase = 'active';
    await writeLease(ctx.stateDir, lease);
    await audit(ctx, lease, 'test-mode.start');
    return { lease, panelSwitched: lease.panelTest === 'on', panelState };
  });
  return result as StartResult;
}

async function checkPanelCanTest(target: Target, ctx: OperationContext): Promise<void> {
  await withPanel(target, ctx, async ({ session }) => {
    const why = session.testMode ? session.testMode.unavailable?.() : 'its session offers no test mode';
    if (why) throw new NotSupportedError(`${target.name} cannot be put on test: ${why}`, { hint: 'nothing was switched and the station was not told' });
    await session.testMode!.status();
  });
}

/**
 * After a failed start: a refusal means the panel did not switch; after a timeout or a lost link it
 * may have, so ask it (and switch it off) before believing it is off.
 */
async function panelIsOff(target: Target, ctx: OperationContext, failure: PanelctlError): Promise<boolean> {
  if (failure instanceof PanelRefusedError || failure instanceof NotSupportedError || failure instanceof ValidationError) return true;
  try {
    return await withPanel(target, ctx, async ({ session }) => {
      if (!session.testMode) return false;
      if ((await session.testMode.status()).active) await session.testMode.stop();
      return !(await session.testMode.status()).active;
    });
  } catch {
    return false;
  }
}

async function rollBackStation(ctx: OperationContext, station: StationAdapter, lease: Lease, cause: PanelctlError): Promise<void> {
  try {
    await station.notify(notice(lease, 'test.stop', new Date().toISOString()));
    await removeLease(ctx.stateDir, lease.panel);
  } catch (error) {
    // Keep the lease: the station still believes the account is on test and someone must sort it out.
    lease.problem = `the panel could not be put on test (${cause.message}) and telling the station to end the test failed too: ${toPanelctlError(error).message}`;
    lease.panelTest = 'off';
    await writeLease(ctx.stateDir, lease);
  }
}

export interface StopResult {
  panel: string;
  /** There was a lease (or a panel test) to end. */
  wasOnTest: boolean;
  lease?: Lease;
  panelSwitched: boolean;
}

/** Panel off first, then the station; idempotent. Must run under the panel's lease lock. */
async function endTest(target: Target, ctx: OperationContext, deps: TestModeDeps, lease: Lease | undefined, endedBy: string): Promise<StopResult> {
  const driver = await describeTarget(target);
  let panelSwitched = false;
  if (supportsTestMode(driver) && lease?.panelTest !== 'none') {
    try {
      panelSwitched = await withPanel(target, ctx, async ({ session }) => {
        if (!session.testMode) return false;
        const before = await session.testMode.status();
        // With a lease, stop anyway (it is harmless when off); without one, only what is really on.
        if (!before.active && !lease) return false;
        const after = await session.testMode.stop();
        if (after.active) throw new VerificationError('the panel accepted the command to end test mode but still reads back as on test');
        return before.active;
      });
    } catch (error) {
      const failure = toPanelctlError(error);
      if (lease) {
        lease.problem = `ending the panel's test mode failed: ${failure.message}`;
        lease.phase = 'stopping';
        await writeLease(ctx.stateDir, lease);
        await audit(ctx, lease, 'test-mode.stop', failure, { failedAt: 'panel', endedBy });
      }
      throw failure;
    }
    if (!lease) return { panel: target.name, wasOnTest: panelSwitched, panelSwitched };
    lease.panelTest = 'off';
  }
  if (!lease) return { panel: target.name, wasOnTest: false, panelSwitched: false };
  const wasStarting = lease.phase === 'starting';
  lease.phase = 'stopping';
  await writeLease(ctx.stateDir, lease);
  // A lease still 'starting' may have told the station without recording it (a crash): tell it again.
  if (lease.stationOnTest || wasStarting) {
    try {
      const station = await deps.station(target);
      await station.notify(notice(lease, 'test.stop', new Date().toISOString()));
    } catch (error) {
      const failure = toPanelctlError(error);
      lease.problem = `the panel is off test, but telling the monitoring station failed: ${failure.message}`;
      await writeLease(ctx.stateDir, lease);
      await audit(ctx, lease, 'test-mode.stop', failure, { failedAt: 'station', endedBy });
      throw failure;
    }
    lease.stationOnTest = false;
  }
  await removeLease(ctx.stateDir, lease.panel);
  await audit(ctx, lease, 'test-mode.stop', undefined, { endedBy });
  return { panel: target.name, wasOnTest: true, lease, panelSwitched };
}

export async function stopTestMode(target: Target, ctx: OperationContext, deps: TestModeDeps, endedBy = 'stop'): Promise<StopResult> {
  const result = await withLeaseLock(ctx.stateDir, target.name, true, async () => endTest(target, ctx, deps, await readLease(ctx.stateDir, target.name), endedBy));
  return result as StopResult;
}

export interface SweepOutcome {
  panel: string;
  until: string;
  outcome: 'ended' | 'skipped' | 'failed';
  error?: PanelctlError;
}

/**
 * Ends every expired lease. Safe to run concurrently with itself and with stop: each lease is
 * taken under its lock (a sweep that finds it held moves on) and re-read inside it, so the
 * station hears "off test" exactly once.
 */
export async function sweepTestMode(ctx: OperationContext, deps: TestModeDeps, now = Date.now()): Promise<SweepOutcome[]> {
  if (!deps.resolve) throw new Error('sweep needs a way to resolve panels');
  const outcomes: SweepOutcome[] = [];
  for (const seen of await listLeases(ctx.stateDir)) {
    if (!isOverdue(seen, now)) continue;
    try {
      const result = await withLeaseLock(ctx.stateDir, seen.panel, false, async () => {
        const lease = await readLease(ctx.stateDir, seen.panel);
        if (!lease || lease.id !== seen.id || !isOverdue(lease, now)) return 'skipped' as const;
        const target = await deps.resolve!(lease.panel);
        await endTest(target, ctx, deps, lease, 'sweep');
        return 'ended' as const;
      });
      outcomes.push({ panel: seen.panel, until: seen.until, outcome: result === LOCKED ? 'skipped' : result });
    } catch (error) {
      outcomes.push({ panel: seen.panel, until: seen.until, outcome: 'failed', error: toPanelctlError(error) });
    }
  }
  return outcomes;
}

export interface LeaseStatus {
  panel: string;
  lease?: Lease;
  /** Milliseconds left; negative when overdue. */
  remainingMs?: number;
  overdue: boolean;
  /** What the panel itself says, with --check and a driver that can read it. */
  panelState?: TestState | { error: string };
  conflict?: string;
}

export function leaseStatus(lease: Lease, now = Date.now()): LeaseStatus {
  const remainingMs = Date.parse(lease.until) - now;
  return { panel: lease.panel, lease, remainingMs, overdue: remainingMs <= 0 };
}

/** Reads the panel's own test state and names any disagreement with the lease. */
export async function checkPanel(target: Target, ctx: OperationContext, status: LeaseStatus): Promise<LeaseStatus> {
  const driver = await describeTarget(target);
  if (!supportsTestMode(driver)) return status;
  try {
    const state = await withPanel(target, ctx, async ({ session }) => session.testMode?.status());
    if (!state) return status;
    status.panelState = state;
    const leaseSaysOn = status.lease?.panelTest === 'on' || status.lease?.panelTest === 'pending';
    if (state.active && !leaseSaysOn) {
      status.conflict = status.lease ? 'the panel is on test but the lease says its test mode is off' : 'the panel is on test but no lease says so';
    } else if (!state.active && leaseSaysOn) {
      status.conflict = 'the lease says the panel is on test but the panel is not (its test mode ended by itself?)';
    }
  } catch (error) {
    status.panelState = { error: toPanelctlError(error).message };
  }
  return status;
}
