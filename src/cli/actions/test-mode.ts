import fs from 'node:fs/promises';
import { ExitCode, PanelctlError, UnreachableError, ValidationError, toPanelctlError } from '../../core/errors.js';
import type { Column } from '../../output/table.js';
import type { Target } from '../../inventory/targets.js';
import { resolveTarget } from '../../inventory/targets.js';
import { stationFor } from '../../station/index.js';
import { listLeases, readLease, windowLeftMs, type Lease } from '../../state/leases.js';
import {
  checkPanel,
  leaseStatus,
  startTestMode,
  stopTestMode,
  sweepTestMode,
  type LeaseStatus,
  type StopResult,
  type TestModeDeps,
} from '../../operations/test-mode.js';
import { describeTarget, withPanel } from '../../operations/session.js';
import { parseDuration, type Cli, type TargetFlags } from '../context.js';
import { localTime } from '../../output/time.js';
import { askConfirm } from '../prompts.js';

interface StationFlags {
  stationConfirmed?: boolean;
}

/**
 * `ask` and `say` are how a manual station talks to the operator; the shell passes versions that
 * pause its spinner.
 */
export function testModeDeps(
  cli: Cli,
  flags: StationFlags,
  ask: (message: string) => Promise<boolean> = askConfirm,
  say: (line: string) => void = (line) => cli.out.notice(cli.out.color.bold(line)),
): TestModeDeps {
  return {
    station: (target) =>
      stationFor(
        target.station,
        target.name,
        {
          confirmed: Boolean(flags.stationConfirmed),
          confirm: cli.interactive ? ask : undefined,
          say,
        },
        cli.ctx.promptSecret,
      ),
    resolve: async (panel) => resolveTarget(panel, {}, await cli.inventory()),
    warn: (line) => cli.out.warn(line),
  };
}

/** "1h 05m", "44m 59s", "12s". */
export function formatLeft(ms: number): string {
  const seconds = Math.max(0, Math.round(Math.abs(ms) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

function leaseJson(lease: Lease): Record<string, unknown> {
  return {
    id: lease.id,
    panel: lease.panel,
    driver: lease.driver,
    account: lease.account ?? null,
    from: lease.from,
    until: lease.until,
    operator: lease.operator,
    host: lease.host ?? null,
    ticket: lease.ticket ?? null,
    reason: lease.reason ?? null,
    station: lease.station,
    stationOnTest: lease.stationOnTest,
    panelTest: lease.panelTest,
    panelEndsAt: lease.panelEndsAt ?? null,
    phase: lease.phase,
    problem: lease.problem ?? null,
    notices: lease.notices ?? null,
    stationSkewSeconds: lease.stationSkewMs === undefined ? null : Math.round(lease.stationSkewMs / 1000),
  };
}

type StartFlags = TargetFlags & StationFlags & { for: string; reason?: string; wait?: boolean; ignoreClockSkew?: boolean };

export async function runStart(cli: Cli, flags: StartFlags): Promise<void> {
  const durationMs = parseDuration(flags.for, '--for');
  const target = await cli.target(flags, { leaseNote: false });
  const deps = testModeDeps(cli, flags);
  // With --wait, a signal during the start is remembered and ends the test as soon as it is on
  // (so this command handles its own signals instead of aborting the start).
  if (flags.wait) cli.releaseInterrupts?.();
  const stop = flags.wait ? catchStopSignals(cli) : undefined;
  try {
    const result = await startTestMode(target, cli.ctx, deps, { durationMs, reason: flags.reason, ignoreClockSkew: flags.ignoreClockSkew });
    const { lease } = result;
    cli.out.result(
      { panel: target.name, lease: leaseJson(lease), panelSwitched: result.panelSwitched, panelState: result.panelState ?? null },
      undefined,
      undefined,
    );
    if (!cli.out.machine) {
      cli.out.say(`${cli.out.color.yellow.bold(`${target.name} is ON TEST`)} until ${localTime(lease.until)} (lease ${lease.id.slice(0, 8)})`);
      cli.out.say(`  station (${lease.station}): account ${lease.account ?? '-'} on test`);
      cli.out.say(
        result.panelSwitched
          ? `  panel: ${result.panelState?.mode ?? 'test mode'} on${result.panelState?.endsAt ? `, the panel ends it by itself at ${localTime(result.panelState.endsAt)}` : ''}`
          : `  panel: not put on test (panelctl offers no test mode for this ${target.driver} panel as set up); only the station lease is held`,
      );
      if (!flags.wait) cli.out.say(`End it with: panelctl test-mode stop --panel ${target.name}`);
    }
    if (stop) await waitThenStop(cli, target, deps, lease, result.panelSwitched, stop);
  } finally {
    stop?.dispose();
  }
}

interface StopSignals {
  /** Resolves with the signal's name when SIGINT or SIGTERM arrives. */
  signalled: Promise<NodeJS.Signals>;
  received?: NodeJS.Signals;
  dispose(): void;
}

function catchStopSignals(cli: Cli): StopSignals {
  let resolve!: (signal: NodeJS.Signals) => void;
  const result: StopSignals = {
    signalled: new Promise((r) => (resolve = r)),
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
  function onSignal(signal: NodeJS.Signals) {
    if (result.received) {
      cli.out.warn('still ending test mode: this attempt finishes, then panelctl stops retrying (the lease stays visible)');
      return;
    }
    result.received = signal;
    resolve(signal);
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return result;
}

/** A ref'd timer: while test mode is on, nothing may let Node exit on an empty event loop. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How long --wait keeps trying to end a test after its window (README: "Test mode that always ends"). */
const GRACE_MS = Number(process.env.PANELCTL_TEST_GRACE_MS || 5 * 60_000);

/** A serial adapter that is unplugged loses its device node: seen within a tick, not at the next poll. */
async function serialGone(target: Target): Promise<boolean> {
  if (target.link.kind !== 'serial' || process.platform === 'win32') return false;
  return fs.stat(target.link.path).then(
    () => false,
    (error: NodeJS.ErrnoException) => error.code === 'ENOENT' || error.code === 'ENXIO' || error.code === 'ENODEV',
  );
}

/** Holds the terminal until the window ends, a signal arrives, or the panel is lost; then ends both halves. */
async function waitThenStop(cli: Cli, target: Target, deps: TestModeDeps, lease: Lease, panelSwitched: boolean, signals: StopSignals): Promise<void> {
  const pollMs = Number(process.env.PANELCTL_TEST_POLL_MS || 30_000);
  // Polls run without the connect spinner: one spinner (the countdown) at a time on the terminal.
  const quietCtx = { ...cli.ctx, activity: undefined };
  let why = '';
  let busyNoted = false;
  let lastPoll = Date.now();
  const countdown = () => `${target.name} on test: ${formatLeft(windowLeftMs(lease))} left (Ctrl-C ends the test now)`;
  const spinner = cli.out.interactive ? (await import('ora')).default({ stream: cli.out.stderr, text: countdown(), discardStdin: false }).start() : undefined;
  if (!spinner) cli.out.note(`waiting until ${localTime(lease.until)}; Ctrl-C or SIGTERM ends the test now`);
  const keepAlive = setInterval(() => undefined, 1000); // signals alone do not keep Node running
  try {
    try {
      while (!why) {
        const left = windowLeftMs(lease);
        if (left <= 0) {
          why = 'the test window is over';
          break;
        }
        if (spinner) spinner.text = countdown();
        const tick = sleep(Math.min(1000, left));
        const signal = await Promise.race([tick.then(() => undefined), signals.signalled]);
        if (signal) {
          why = `${signal} received`;
          break;
        }
        if (await serialGone(target)) {
          why = `lost the panel (serial device ${(target.link as { path: string }).path} is gone); reconnecting to end the test`;
          break;
        }
        if (panelSwitched && Date.now() - lastPoll >= pollMs) {
          lastPoll = Date.now();
          const state = await withPanel(target, quietCtx, async ({ session }) => session.testMode?.status(), 'test-mode').catch((error) =>
            toPanelctlError(error),
          );
          if (state instanceof PanelctlError && state.code === 'E_PANEL_LOCKED') {
            // Another panelctl is talking to the panel (a technician's `users list` during the test): it is
            // there, not lost. Check again at the next poll.
            if (!busyNoted && !spinner) cli.out.note(`${target.name} is busy (${state.message}); the test stays on, checking again later`);
            busyNoted = true;
          } else if (state instanceof PanelctlError) why = `lost the panel (${state.message}); reconnecting to end the test`;
          else {
            busyNoted = false;
            if (state && !state.active) why = 'the panel ended its own test mode';
          }
        }
      }
    } finally {
      spinner?.stop();
    }
    cli.out.note(`${why}: ending test mode on ${target.name}`);
    const stopped = await stopWithRetries(target, cli, deps, lease);
    if (stopped.stationPending) {
      process.exitCode = ExitCode.partial;
      cli.out.warn(cli.out.color.red.bold(stopped.lease?.problem ?? 'the station has not confirmed the end of the test'));
      return;
    }
  } finally {
    clearInterval(keepAlive);
  }
  cli.out.say(`${target.name} is off test (station and panel).`);
  if (signals.received) process.exitCode = signals.received === 'SIGINT' ? ExitCode.cancelled : 143;
}

/** What is still on according to the lease on disk, in words. */
function stillOn(lease: Lease): string {
  const parts: string[] = [];
  if (lease.panelTest === 'on' || lease.panelTest === 'pending') parts.push(`the panel's ${lease.panelMode ?? 'test mode'}`);
  if (lease.stationOnTest) parts.push(`the station's test for account ${lease.account ?? '-'} (${lease.station})`);
  return parts.join(' and ') || 'the lease';
}

/**
 * A lost link often comes back: keep trying with back-off (1 s doubling to 30 s) until the
 * window's end plus GRACE_MS, or a second Ctrl-C/SIGTERM. Never returns with the test on:
 * it throws E_TEST_STILL_ON (exit 4) after a red message naming what is on and how to end it.
 */
async function stopWithRetries(target: Target, cli: Cli, deps: TestModeDeps, started: Lease): Promise<StopResult> {
  const deadline = Math.max(Date.now(), Date.parse(started.until)) + GRACE_MS;
  let giveUp = false;
  let wake: () => void = () => {};
  const onAgain = () => {
    giveUp = true;
    wake();
  };
  process.on('SIGINT', onAgain);
  process.on('SIGTERM', onAgain);
  try {
    for (let delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
      let failure: PanelctlError;
      try {
        return await stopTestMode(target, cli.ctx, deps, 'wait');
      } catch (error) {
        failure = toPanelctlError(error);
      }
      const lease = await readLease(cli.ctx.stateDir, target.name).catch(() => started);
      // Someone else (a `stop` in another terminal, a sweep) ended it meanwhile.
      if (!lease || lease.id !== started.id) return { panel: target.name, wasOnTest: true, panelSwitched: false };
      const wait = Math.min(delay, deadline - Date.now());
      if (giveUp || wait <= 0 || failure.exitCode === ExitCode.usage) {
        cli.out.warn(
          cli.out.color.red.bold(
            `TEST MODE IS STILL ON for ${target.name}: ${stillOn(lease)}. Last error: ${failure.message}. End it with \`panelctl test-mode stop --panel ${target.name}\` (the lease stays and shows as overdue; \`test-mode sweep\` also ends it).`,
          ),
        );
        throw new UnreachableError('E_TEST_STILL_ON', `could not end test mode on ${target.name}: ${stillOn(lease)} still on`, {
          hint: `panelctl test-mode stop --panel ${target.name}`,
          transient: false,
          cause: failure,
        });
      }
      cli.out.warn(
        `could not end test mode on ${target.name} yet (${failure.message}); still on: ${stillOn(lease)}; trying again in ${formatLeft(wait)} (until ${localTime(deadline)}; Ctrl-C gives up)`,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    process.off('SIGINT', onAgain);
    process.off('SIGTERM', onAgain);
  }
}

export async function runStop(cli: Cli, flags: TargetFlags & StationFlags): Promise<void> {
  const target = await cli.target(flags, { leaseNote: false });
  const result = await stopTestMode(target, cli.ctx, testModeDeps(cli, flags));
  cli.out.result(
    {
      panel: target.name,
      wasOnTest: result.wasOnTest,
      panelSwitched: result.panelSwitched,
      stationPending: Boolean(result.stationPending),
      lease: result.lease ? leaseJson(result.lease) : null,
    },
    undefined,
    undefined,
  );
  if (result.stationPending) {
    // A reminder nobody confirmed is not an end: exit 7 so that a script or cron mail reaches a person.
    process.exitCode = ExitCode.partial;
    cli.out.warn(cli.out.color.red.bold(result.lease?.problem ?? 'the station has not confirmed the end of the test'));
    return;
  }
  if (!cli.out.machine) cli.out.say(result.wasOnTest ? `${target.name} is off test (station and panel).` : `${target.name} was not on test; nothing to do.`);
}

const statusColumns = (cli: Cli): Column<LeaseStatus>[] => [
  { header: 'PANEL', value: (s) => s.panel },
  { header: 'ACCOUNT', value: (s) => s.lease?.account ?? '' },
  { header: 'UNTIL', value: (s) => (s.lease ? localTime(s.lease.until) : '') },
  {
    header: 'LEFT',
    value: (s) =>
      s.remainingMs === undefined
        ? ''
        : s.overdueReason === 'end-unconfirmed'
          ? cli.out.color.red.bold('OVERDUE (ending, unconfirmed)')
          : s.overdue
            ? cli.out.color.red.bold(`OVERDUE ${formatLeft(s.remainingMs)}`)
            : formatLeft(s.remainingMs),
  },
  { header: 'BY', value: (s) => s.lease?.operator ?? '' },
  // A shared store says from which machine each lease was started (the files backend: this one).
  { header: 'HOST', value: (s) => s.lease?.host ?? '' },
  { header: 'TICKET', value: (s) => s.lease?.ticket ?? '' },
  { header: 'STATION', value: (s) => (s.lease ? `${s.lease.station}${s.lease.stationOnTest ? ' on' : ''}` : '') },
  { header: 'PANEL TEST', value: (s) => panelColumn(s) },
  { header: 'NOTE', value: (s) => cli.out.color.red([s.conflict, s.lease?.problem].filter(Boolean).join('; ')) },
];

function panelColumn(status: LeaseStatus): string {
  const leaseSays = status.lease?.panelTest ?? 'no lease';
  if (!status.panelState) return leaseSays;
  if ('error' in status.panelState) return `${leaseSays} (unreadable)`;
  return `${leaseSays} (panel: ${status.panelState.active ? 'on' : 'off'})`;
}

function statusJson(status: LeaseStatus): Record<string, unknown> {
  return {
    panel: status.panel,
    ...(status.lease ? leaseJson(status.lease) : { lease: null }),
    remainingSeconds: status.remainingMs === undefined ? null : Math.round(status.remainingMs / 1000),
    overdue: status.overdue,
    overdueReason: status.overdueReason ?? null,
    panelState: status.panelState ?? null,
    conflict: status.conflict ?? null,
  };
}

export async function runStatus(cli: Cli, flags: { panel?: string; all?: boolean; check?: boolean }): Promise<void> {
  if (flags.panel !== undefined && flags.all) throw new ValidationError('--all', 'give --panel NAME or --all, not both');
  const now = Date.now();
  let statuses: LeaseStatus[];
  const { orLocalView } = await import('../../state/select.js');
  const { listLeaseFiles } = await import('../../state/leases.js');
  const leases = await orLocalView(
    cli,
    'the test-mode leases of this machine only',
    () => (flags.panel ? readLease(cli.ctx.stateDir, flags.panel).then((l) => (l ? [l] : [])) : listLeases(cli.ctx.stateDir)),
    async () => (await listLeaseFiles(cli.ctx.stateDir)).filter((l) => !flags.panel || l.panel === flags.panel),
  );
  if (flags.panel) {
    // A lease names its panel even after the inventory dropped it; without one, the name must be a panel (a typo
    // must not read as "not on test").
    if (!leases[0]) await cli.target({ panel: flags.panel }, { leaseNote: false });
    statuses = [leases[0] ? leaseStatus(leases[0], now) : { panel: flags.panel, overdue: false }];
  } else {
    statuses = leases.map((lease) => leaseStatus(lease, now));
  }
  if (flags.check) statuses = await checkAll(cli, statuses, !flags.panel);
  const shown = statuses.filter(
    (s) => s.lease || s.conflict || (s.panelState && !('error' in s.panelState) && s.panelState.active) || (flags.panel && s.panelState),
  );
  if (!cli.out.machine && shown.length === 0) cli.out.say('No panel is on test.');
  const overdue = shown.filter((s) => s.overdue).length;
  // `overdue` and `needsAttention` let a script tell "tests running" from "a test nobody ended".
  const attention = shown.filter((s) => s.overdue || s.conflict).length;
  if (cli.out.machine || shown.length > 0) {
    // The JSON rows only for a machine format: a table of 10,000 team leases does not need them (issue 18's 2x).
    const json = cli.out.machine ? shown.map(statusJson) : [];
    cli.out.result({ leases: json, overdue, needsAttention: attention > 0 }, shown, statusColumns(cli), json);
  }
  if (attention) cli.attention(`${attention} lease(s) overdue or in conflict with the panel`);
  if (overdue && !cli.out.machine) cli.out.warn(cli.out.color.red(`${overdue} lease(s) overdue: run \`panelctl test-mode sweep\` (or stop each) to end them.`));
}

/** --check: ask each leased panel (and with --all, every inventory panel that has test mode). */
async function checkAll(cli: Cli, statuses: LeaseStatus[], everyPanel: boolean): Promise<LeaseStatus[]> {
  const { default: pLimit } = await import('p-limit');
  const limit = pLimit(16);
  const inventory = await cli.inventory();
  const byPanel = new Map(statuses.map((s) => [s.panel, s]));
  if (everyPanel) {
    for (const name of Object.keys(inventory.panels)) if (!byPanel.has(name)) byPanel.set(name, { panel: name, overdue: false });
  }
  return Promise.all(
    [...byPanel.values()].map((status) =>
      limit(async () => {
        try {
          const target = await resolveTarget(status.panel, {}, inventory);
          if (!(await describeTarget(target, cli.ctx)).facets.testMode) return status;
          return await checkPanel(target, cli.ctx, status);
        } catch (error) {
          return { ...status, panelState: { error: toPanelctlError(error).message } };
        }
      }),
    ),
  );
}

export async function runSweep(cli: Cli, flags: StationFlags & { watch?: boolean; interval?: string }): Promise<void> {
  if (flags.watch) return (await import('./sweep-watch.js')).runSweepWatch(cli, flags);
  if (flags.interval !== undefined) throw new ValidationError('--interval', 'goes with --watch (a single sweep has no interval)');
  const outcomes = await sweepTestMode(cli.ctx, testModeDeps(cli, { stationConfirmed: flags.stationConfirmed }));
  const rows = outcomes.map((o) => ({
    panel: o.panel,
    until: o.until,
    outcome: o.outcome,
    error: o.error ? { code: o.error.code, message: o.error.message } : null,
  }));
  cli.out.result({ swept: rows }, rows, [
    { header: 'PANEL', value: (r) => r.panel },
    { header: 'EXPIRED', value: (r) => localTime(r.until) },
    {
      header: 'OUTCOME',
      value: (r) =>
        r.outcome === 'failed' || r.outcome === 'reminded' ? cli.out.color.red(r.outcome === 'reminded' ? 'call the station' : 'failed') : r.outcome,
    },
    { header: 'WHY', value: (r) => r.error?.message ?? '' },
  ]);
  if (!cli.out.machine && rows.length === 0) cli.out.say('No expired lease.');
  // Exit 7 (README) whenever a lease is left: it could not be ended, or a person must still phone a manual station.
  const left = outcomes.filter((o) => o.outcome === 'failed' || o.outcome === 'reminded');
  if (left.length) {
    process.exitCode = ExitCode.partial;
    const reminded = outcomes.filter((o) => o.outcome === 'reminded').map((o) => o.panel);
    if (reminded.length)
      cli.out.warn(
        cli.out.color.red.bold(
          `a person must call the monitoring station for ${reminded.join(', ')}, then run \`panelctl test-mode stop --panel NAME --station-confirmed\``,
        ),
      );
  }
}
