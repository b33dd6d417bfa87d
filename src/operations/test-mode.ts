import { randomUUID } from 'node:crypto';
import type { DriverInfo, TestModeControl, TestState } from '../core/contract.js';
import {
  ExitCode,
  NotSupportedError,
  PanelRefusedError,
  PanelctlError,
  UnreachableError,
  UsageError,
  ValidationError,
  VerificationError,
  toPanelctlError,
} from '../core/errors.js';
import type { Target } from '../inventory/targets.js';
import { deliveryOf, type NoticeReceipt, type StationAdapter, type StationNotice } from '../station/index.js';
import {
  LOCKED,
  isOverdue,
  kernelClock,
  listLeases,
  overdueReason,
  readLease,
  removeLease,
  windowLeftMs,
  withLeaseLock,
  writeLease,
  type Lease,
} from '../state/leases.js';
import { localTime } from '../output/time.js';
import { formatDuration } from '../core/duration.js';
import { appendAudit, prepareAudit } from '../audit/log.js';
import type { OperationContext } from './context.js';
import { configuredSecrets, describeTarget, withPanel } from './session.js';

/** Opens the panel for test mode: the secrets test mode needs (an installer code, on DSC) are read or asked for. */
const withTestModePanel = <T>(target: Target, ctx: OperationContext, work: Parameters<typeof withPanel<T>>[2]) => withPanel(target, ctx, work, 'test-mode');

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
  /** Prints a warning for the operator (clock skew); silent when absent. */
  warn?(line: string): void;
}

export interface StartOptions {
  durationMs: number;
  reason?: string;
  /** Start even when the station's clock is more than CLOCK_SKEW_REFUSE_MS away from ours. */
  ignoreClockSkew?: boolean;
}

/** Clock skew against the station (README, "Clocks"): warn past the first, refuse a start past the second. */
export const CLOCK_SKEW_WARN_MS = 30_000;
export const CLOCK_SKEW_REFUSE_MS = 5 * 60_000;

export interface StartResult {
  lease: Lease;
  /** Whether the panel itself was put on test (false: its protocol has no test mode). */
  panelSwitched: boolean;
  panelState?: TestState;
}

function supportsTestMode(info: DriverInfo): boolean {
  return info.facets.testMode;
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

/**
 * Sends one notice of this lease and records it in the lease before sending and after the
 * answer, so a run that is cut off in between leaves "sending" behind (maybe delivered: the lease
 * stays and the stop is sent) and a run cut off after a confirmed stop does not send it again.
 */
async function sendNotice(ctx: OperationContext, station: StationAdapter, lease: Lease, event: StationNotice['event']): Promise<NoticeReceipt> {
  const key = event === 'test.start' ? 'start' : 'stop';
  const attempts = (lease.notices?.[key]?.attempts ?? 0) + 1;
  lease.notices = { ...lease.notices, [key]: { state: 'sending', at: new Date().toISOString(), attempts } };
  // The station may have it from the moment it leaves: only a confirmed stop clears this.
  if (event === 'test.start') lease.stationOnTest = true;
  await writeLease(ctx.stateDir, lease);
  let receipt: NoticeReceipt;
  try {
    receipt = await station.notify(notice(lease, event, event === 'test.stop' ? new Date().toISOString() : lease.until));
  } catch (error) {
    const failure = toPanelctlError(error);
    lease.notices[key] = {
      state: deliveryOf(failure) === 'unknown' ? 'unanswered' : 'refused',
      at: new Date().toISOString(),
      attempts,
      error: failure.message,
    };
    await writeLease(ctx.stateDir, lease);
    throw failure;
  }
  lease.notices[key] = { state: receipt.confirmed ? 'confirmed' : 'reminded', at: new Date().toISOString(), attempts };
  if (event === 'test.stop' && receipt.confirmed) lease.stationOnTest = false;
  await writeLease(ctx.stateDir, lease);
  return receipt;
}

/** Station clock minus ours, from an HTTP Date header (second resolution). */
function skewFrom(date: string | undefined, sentAt: number): number | undefined {
  const station = date ? Date.parse(date) : NaN;
  if (!Number.isFinite(station)) return undefined;
  // The header has whole seconds; compare with the middle of the exchange.
  return station - (sentAt + Date.now()) / 2;
}

function describeSkew(ms: number): string {
  const seconds = Math.round(Math.abs(ms) / 1000);
  const amount = seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
  return `this machine's clock is ${amount} ${ms > 0 ? 'behind' : 'ahead of'} the monitoring station's`;
}

/**
 * Before the station hears anything: compares our clock with the station's (a webhook's Date
 * header). A lease and a notice with a wrong time tell the station the wrong window.
 */
async function checkClock(station: StationAdapter, deps: TestModeDeps, options: StartOptions, target: Target): Promise<number | undefined> {
  if (!station.clock) return undefined;
  const sentAt = Date.now();
  const skew = skewFrom(await station.clock(), sentAt);
  if (skew === undefined) return undefined;
  if (Math.abs(skew) > CLOCK_SKEW_REFUSE_MS && !options.ignoreClockSkew) {
    throw new UsageError(`${describeSkew(skew)}; a test window from this clock would be wrong at the station, so nothing was switched`, {
      code: 'E_CLOCK_SKEW',
      hint: `set this machine's clock (NTP), or run again with --ignore-clock-skew if the station's clock is the wrong one (${target.name})`,
      data: { skewSeconds: Math.round(skew / 1000) },
    });
  }
  if (Math.abs(skew) > CLOCK_SKEW_WARN_MS) deps.warn?.(`${describeSkew(skew)}: the window's times in the lease and the notice are off by as much`);
  return Math.round(skew);
}

async function audit(
  ctx: OperationContext,
  lease: Lease,
  action: string,
  failure?: PanelctlError,
  details: Record<string, string | number | boolean> = {},
): Promise<void> {
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
    throw new ValidationError(
      `panel "${target.name}", field "account"`,
      'is required for test mode: it is the number the monitoring station knows the panel by',
    );
  }
}

/** Station on test, then the panel; a failure on the panel rolls the station back. */
export async function startTestMode(target: Target, ctx: OperationContext, deps: TestModeDeps, options: StartOptions): Promise<StartResult> {
  checkStartable(target);
  const minutes = options.durationMs / 60_000;
  if (!(options.durationMs >= 1000) || minutes > 24 * 60) throw new ValidationError('--for', 'must be between 1s and 24h');
  const info = await describeTarget(target, ctx);
  const limit = info.testModeLimit;
  if (limit && minutes > limit.maxMinutes) {
    throw new ValidationError('--for', `must be at most ${formatDuration(limit.maxMinutes * 60_000)} on ${target.name}: ${limit.why}`);
  }
  // A secret test mode cannot do without (a DSC's installer code), missing from the inventory: known without the panel.
  const missing = supportsTestMode(info)
    ? info.secrets.find((s) => s.requiredFor?.includes('test-mode') && !configuredSecrets(target, info).includes(s.name))
    : undefined;
  if (missing) {
    throw new NotSupportedError(`${target.name} cannot be put on test: it needs the ${missing.label}, and its inventory entry has no secrets.${missing.name}`, {
      hint: `add secrets: { ${missing.name}: env:VARIABLE } to panel "${target.name}" in the inventory; nothing was switched and the station was not told`,
    });
  }
  await prepareAudit(ctx.stateDir);
  // The clock check needs no panel, so it runs before one is contacted (exit 2: nothing changed).
  const station = await deps.station(target);
  const stationSkewMs = await checkClock(station, deps, options, target);
  // Before the station hears anything: can this panel go on test at all, and is it there?
  // (A separate connection: the station may take a person's confirmation, too long to hold a panel.)
  if (supportsTestMode(info)) await checkPanelCanTest(target, ctx);
  const result = await withLeaseLock(ctx.stateDir, target.name, { wait: true }, async () => {
    const existing = await readLease(ctx.stateDir, target.name);
    if (existing) {
      const state = isOverdue(existing) ? `overdue since ${localTime(existing.until)}` : `until ${localTime(existing.until)}`;
      throw new PanelRefusedError(
        'E_ALREADY_ON_TEST',
        `${target.name} is already on test (${state}, by ${existing.operator}${existing.ticket ? `, ticket ${existing.ticket}` : ''})`,
        {
          hint: `end it first: panelctl test-mode stop --panel ${target.name}`,
        },
      );
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
      panelTest: supportsTestMode(info) ? 'pending' : 'none',
      phase: 'starting',
      notices: {},
      clock: kernelClock(),
      stationSkewMs,
    };
    // On disk before anything is switched: a crash from here on leaves a lease to find and end.
    await writeLease(ctx.stateDir, lease);
    try {
      const receipt = await sendNotice(ctx, station, lease, 'test.start');
      const skew = skewFrom(receipt.stationDate, from.getTime());
      if (stationSkewMs === undefined && skew !== undefined && Math.abs(skew) > CLOCK_SKEW_WARN_MS) deps.warn?.(describeSkew(skew));
    } catch (error) {
      const failure = toPanelctlError(error);
      if (deliveryOf(failure) !== 'unknown') {
        await removeLease(ctx.stateDir, target.name);
        await audit(ctx, lease, 'test-mode.start', failure, { failedAt: 'station' });
        throw failure;
      }
      throw await takeBackUnansweredStart(ctx, station, lease, failure);
    }

    let panelState: TestState | undefined;
    if (lease.panelTest === 'pending') {
      try {
        panelState = await withTestModePanel(target, ctx, async ({ session }) => {
          // Present: the panel's facets declare test mode, and opening it checked the session offers it (facets.ts).
          const control = session.testMode as TestModeControl;
          // The exact window: drivers round to what their panel counts in (Modbus profiles: seconds or minutes).
          const state = await control.start({ minutes });
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

/**
 * The station did not answer the start in time, but may have it (a slow webhook, a station
 * program cut off by its timeout). "Unknown" is not "refused": the lease stays until the station
 * confirms a test.stop, which is sent now; if that is not confirmed either, the lease is left
 * overdue for `stop` or `sweep`. Returns the error to report.
 */
async function takeBackUnansweredStart(ctx: OperationContext, station: StationAdapter, lease: Lease, failure: PanelctlError): Promise<PanelctlError> {
  lease.phase = 'stopping';
  // The panel is only switched after the station's yes: it was never told anything.
  if (lease.panelTest === 'pending') lease.panelTest = 'off';
  lease.problem = `the station did not answer test.start (${failure.message}) and may have put account ${lease.account ?? '-'} on test`;
  await writeLease(ctx.stateDir, lease);
  try {
    const receipt = await sendNotice(ctx, station, lease, 'test.stop');
    if (!receipt.confirmed) throw new UsageError('the station did not confirm test.stop');
  } catch (error) {
    const stopFailure = toPanelctlError(error);
    lease.problem = `the station did not answer test.start and did not confirm test.stop either (${stopFailure.message}): account ${lease.account ?? '-'} may be ON TEST at the station`;
    await writeLease(ctx.stateDir, lease);
    await audit(ctx, lease, 'test-mode.start', failure, { failedAt: 'station', stationState: 'unknown' });
    return new UnreachableError(
      'E_STATION_UNCONFIRMED',
      `the monitoring station did not answer the start of the test (${failure.message}), and taking it back was not confirmed either: account ${lease.account ?? '-'} may be ON TEST at the station. The lease is kept and shows as overdue`,
      {
        hint: `run \`panelctl test-mode stop --panel ${lease.panel}\` once the station answers (or let \`test-mode sweep\` do it); if the station is slow, raise station.timeoutMs`,
        data: { delivery: 'unknown' },
      },
    );
  }
  await removeLease(ctx.stateDir, lease.panel);
  await audit(ctx, lease, 'test-mode.start', failure, { failedAt: 'station', takenBack: true });
  return new UnreachableError(
    'E_STATION_UNCONFIRMED',
    `the monitoring station did not answer the start of the test (${failure.message}); as it may have had it, panelctl sent test.stop, which the station confirmed: nothing is on test`,
    { hint: 'if the station is slow, raise station.timeoutMs in the inventory, then start again' },
  );
}

async function checkPanelCanTest(target: Target, ctx: OperationContext): Promise<void> {
  await withTestModePanel(target, ctx, async ({ session }) => {
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
    return await withTestModePanel(target, ctx, async ({ session }) => {
      if (!session.testMode) return false;
      if ((await session.testMode.status()).active) await session.testMode.stop();
      return !(await session.testMode.status()).active;
    });
  } catch {
    return false;
  }
}

async function rollBackStation(ctx: OperationContext, station: StationAdapter, lease: Lease, cause: PanelctlError): Promise<void> {
  lease.panelTest = 'off';
  lease.phase = 'stopping';
  try {
    const receipt = await sendNotice(ctx, station, lease, 'test.stop');
    if (!receipt.confirmed) throw new UsageError('nobody confirmed the call to the station');
    await removeLease(ctx.stateDir, lease.panel);
  } catch (error) {
    // Keep the lease: the station still believes the account is on test and someone must sort it out.
    lease.problem = `the panel could not be put on test (${cause.message}) and telling the station to end the test failed too: ${toPanelctlError(error).message}`;
    await writeLease(ctx.stateDir, lease);
  }
}

export interface StopResult {
  panel: string;
  /** There was a lease (or a panel test) to end. */
  wasOnTest: boolean;
  lease?: Lease;
  panelSwitched: boolean;
  /**
   * The panel is off, but a manual station's end is only a printed reminder: the lease stays
   * (overdue) until a person confirms the call with `stop --station-confirmed`.
   */
  stationPending?: boolean;
}

/** Panel off first, then the station; idempotent. Must run under the panel's lease lock. */
async function endTest(target: Target, ctx: OperationContext, deps: TestModeDeps, lease: Lease | undefined, endedBy: string): Promise<StopResult> {
  const info = await describeTarget(target, ctx);
  let panelSwitched = false;
  // A lease whose panel half is known off (an earlier stop ended it) goes straight to the station.
  if (supportsTestMode(info) && lease?.panelTest !== 'none' && lease?.panelTest !== 'off') {
    try {
      panelSwitched = await withTestModePanel(target, ctx, async ({ session }) => {
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
  // Leases written before notices were recorded: a lease still 'starting' may have told the station.
  const stationMayBeOn = lease.stationOnTest || (wasStarting && !lease.notices);
  // A stop the station already confirmed (a run cut off before removing the lease) is not sent twice.
  if (stationMayBeOn && lease.notices?.stop?.state !== 'confirmed') {
    let receipt: NoticeReceipt;
    try {
      const station = await deps.station(target);
      receipt = await sendNotice(ctx, station, lease, 'test.stop');
    } catch (error) {
      const failure = toPanelctlError(error);
      const unknown = deliveryOf(failure) === 'unknown';
      lease.problem = `the panel is off test, but the monitoring station ${unknown ? 'did not confirm' : 'refused'} test.stop: ${failure.message}`;
      await writeLease(ctx.stateDir, lease);
      await audit(ctx, lease, 'test-mode.stop', failure, { failedAt: 'station', endedBy });
      throw failure;
    }
    if (!receipt.confirmed) {
      lease.problem = `the panel is off test; a person must call the monitoring station to take account ${lease.account ?? '-'} off test, then run \`panelctl test-mode stop --panel ${lease.panel} --station-confirmed\``;
      await writeLease(ctx.stateDir, lease);
      await audit(ctx, lease, 'test-mode.stop', undefined, { endedBy, station: 'reminder printed, not confirmed' });
      return { panel: target.name, wasOnTest: true, lease, panelSwitched, stationPending: true };
    }
  }
  await removeLease(ctx.stateDir, lease.panel);
  await audit(ctx, lease, 'test-mode.stop', undefined, { endedBy });
  return { panel: target.name, wasOnTest: true, lease, panelSwitched };
}

export async function stopTestMode(target: Target, ctx: OperationContext, deps: TestModeDeps, endedBy = 'stop'): Promise<StopResult> {
  const result = await withLeaseLock(ctx.stateDir, target.name, { wait: true }, async () =>
    endTest(target, ctx, deps, await readLease(ctx.stateDir, target.name), endedBy),
  );
  return result as StopResult;
}

export interface SweepOutcome {
  panel: string;
  until: string;
  /** reminded: the panel is off, a manual station still needs a person's call (the lease stays). */
  outcome: 'ended' | 'skipped' | 'failed' | 'reminded';
  error?: PanelctlError;
}

/**
 * Ends every overdue lease: its window is over, or an end began and the station has not
 * confirmed it. Safe to run concurrently with itself and with stop: each lease is taken under its
 * lock (a sweep that finds it held moves on) and re-read inside it, and every notice is recorded
 * in the lease, so the station hears "off test" once per lease (again only when unconfirmed).
 */
export async function sweepTestMode(ctx: OperationContext, deps: TestModeDeps, now = Date.now()): Promise<SweepOutcome[]> {
  if (!deps.resolve) throw new Error('sweep needs a way to resolve panels');
  const outcomes: SweepOutcome[] = [];
  for (const seen of await listLeases(ctx.stateDir)) {
    if (!isOverdue(seen, now)) continue;
    try {
      const result = await withLeaseLock(ctx.stateDir, seen.panel, { wait: false }, async () => {
        const lease = await readLease(ctx.stateDir, seen.panel);
        if (!lease || lease.id !== seen.id || !isOverdue(lease, now)) return 'skipped' as const;
        const target = await deps.resolve!(lease.panel);
        if (overdueReason(lease, now) === 'window-over') await checkSweeperClock(target, deps, lease);
        const stopped = await endTest(target, ctx, deps, lease, 'sweep');
        return stopped.stationPending ? ('reminded' as const) : ('ended' as const);
      });
      outcomes.push({ panel: seen.panel, until: seen.until, outcome: result === LOCKED ? 'skipped' : result });
    } catch (error) {
      outcomes.push({ panel: seen.panel, until: seen.until, outcome: 'failed', error: toPanelctlError(error) });
    }
  }
  return outcomes;
}

/**
 * A sweeper whose clock is far ahead must not end a fresh test. On the machine that started it
 * the kernel clock in the lease catches that (windowLeftMs); elsewhere the station's clock is the
 * second opinion: by the station's time (less the skew recorded at the start), is the window over?
 */
async function checkSweeperClock(target: Target, deps: TestModeDeps, lease: Lease): Promise<void> {
  const station = await deps.station(target);
  if (!station.clock) return;
  const asked = Date.now();
  const skew = skewFrom(await station.clock(), asked);
  if (skew === undefined) return;
  const leftByStation = Date.parse(lease.until) - (asked + skew - (lease.stationSkewMs ?? 0));
  if (leftByStation > CLOCK_SKEW_WARN_MS) {
    throw new PanelctlError(
      ExitCode.usage,
      'E_CLOCK_SKEW',
      `${describeSkew(skew)}: by the station's clock the test on ${lease.panel} has ${Math.round(leftByStation / 60_000)} min left, so this sweep does not end it`,
      {
        hint: "set this machine's clock (NTP); the sweep on a machine with the right time ends it when it is due",
      },
    );
  }
}

export interface LeaseStatus {
  panel: string;
  lease?: Lease;
  /** Milliseconds left; negative when overdue. */
  remainingMs?: number;
  overdue: boolean;
  /** window-over: the test window ended; end-unconfirmed: an end began and the station has not confirmed it. */
  overdueReason?: 'window-over' | 'end-unconfirmed';
  /** What the panel itself says, with --check and a driver that can read it. */
  panelState?: TestState | { error: string };
  conflict?: string;
}

export function leaseStatus(lease: Lease, now = Date.now()): LeaseStatus {
  // Once per lease: a status of 10,000 team leases asked the kernel's uptime twice for each.
  const remainingMs = windowLeftMs(lease, now);
  const reason = overdueReason(lease, now, remainingMs);
  return { panel: lease.panel, lease, remainingMs, overdue: reason !== undefined, overdueReason: reason };
}

/** Reads the panel's own test state and names any disagreement with the lease. */
export async function checkPanel(target: Target, ctx: OperationContext, status: LeaseStatus): Promise<LeaseStatus> {
  const info = await describeTarget(target, ctx);
  if (!supportsTestMode(info)) return status;
  try {
    const state = await withTestModePanel(target, ctx, async ({ session }) => session.testMode?.status());
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
