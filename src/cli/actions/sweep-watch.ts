import os from 'node:os';
import { ExitCode, PanelctlError, toPanelctlError } from '../../core/errors.js';
import { sweepTestMode, type SweepOutcome } from '../../operations/test-mode.js';
import { sweepLeadership } from '../../state/sweep-leader.js';
import type { Cli } from '../context.js';
import { testModeDeps } from './test-mode.js';

/**
 * `panelctl test-mode sweep --watch`: the desk's sweeper, for systemd (README "Team setup"). Every
 * interval it makes sure it leads (a PostgreSQL advisory lock with a shared store), and the leader
 * ends each expired lease. Others stand by and take over when the leader dies. A lost database
 * costs the leadership (its lock went with the connection); the loop reconnects and contends again.
 * A new leader waits `takeoverGraceMs` before its first sweep, so a leader that lost its connection
 * in the middle of ending a lease can record the station's answer first; one still cut off after it
 * leaves the stop to be sent again (the station keys notices by lease and event: README "Stations").
 */
export interface WatchFlags {
  stationConfirmed?: boolean;
  interval?: string;
}

const isUnavailable = (error: unknown) => error instanceof PanelctlError && error.code === 'E_STATE_UNAVAILABLE';

export async function runSweepWatch(cli: Cli, flags: WatchFlags): Promise<void> {
  const { parseDuration } = await import('../../core/duration.js');
  const intervalMs = flags.interval ? parseDuration(flags.interval, '--interval', { bareNumber: 'seconds' }) : 2000;
  const takeoverGraceMs = Number(process.env.PANELCTL_SWEEP_TAKEOVER_GRACE_MS ?? 3000);
  const deps = testModeDeps(cli, { stationConfirmed: flags.stationConfirmed });
  const leadership = await sweepLeadership(cli.ctx.stateDir);
  const me = `process ${process.pid} on ${os.hostname()}`;
  const stop = new AbortController();
  let signal: NodeJS.Signals | undefined;
  const onSignal = (name: NodeJS.Signals) => {
    signal = name;
    stop.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const lastFailure = new Map<string, string>();
  let state: 'starting' | 'leading' | 'lost the lead' | 'standing by' | 'database lost' = 'starting';
  const say = (text: string) => cli.out.notice(`${new Date().toISOString()} ${text}`);
  try {
    while (!stop.signal.aborted) {
      try {
        // Said whoever leads next, this process again or another: in between, nobody held the lead.
        if (state === 'leading' && leadership.lostLead?.()) {
          say(`sweep: ${me} lost the lead (its database connection closed)`);
          state = 'lost the lead';
        }
        const leading = await leadership.lead();
        if (leading && state !== 'leading') {
          say(`sweep: ${me} leads the sweep${state === 'starting' ? '' : ' (took over)'}`);
          state = 'leading';
          await sleep(takeoverGraceMs, stop.signal);
          if (stop.signal.aborted) break;
        } else if (!leading && state !== 'standing by') {
          if (state === 'leading') say(`sweep: ${me} lost the lead (its database connection closed)`);
          say(`sweep: another sweeper leads; ${me} stands by`);
          state = 'standing by';
        }
        if (leading) report(cli, say, await sweepTestMode(cli.ctx, deps), lastFailure);
      } catch (error) {
        if (!isUnavailable(error)) throw error;
        if (state !== 'database lost') say(`sweep: ${toPanelctlError(error).message}; reconnecting`);
        state = 'database lost';
      }
      await sleep(intervalMs, stop.signal);
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await leadership.release().catch(() => undefined);
  }
  say(`sweep: ${me} stopped (${signal})`);
  process.exitCode = signal === 'SIGINT' ? ExitCode.cancelled : ExitCode.terminated;
}

/** Says what each sweep did; a lease that keeps failing the same way is reported once, not every interval. */
function report(cli: Cli, say: (text: string) => void, outcomes: SweepOutcome[], lastFailure: Map<string, string>): void {
  for (const o of outcomes) {
    if (o.outcome === 'skipped') continue;
    const key = `${o.panel} ${o.until}`;
    const failure = o.outcome === 'ended' ? undefined : `${o.outcome} ${o.error?.message ?? ''}`;
    if (failure !== undefined && lastFailure.get(key) === failure) continue;
    if (failure === undefined) lastFailure.delete(key);
    else lastFailure.set(key, failure);
    if (cli.out.machine) cli.out.event({ event: 'sweep', panel: o.panel, until: o.until, outcome: o.outcome, error: o.error?.message ?? null });
    say(`sweep: ${o.panel} (expired ${o.until}): ${o.outcome}${o.error ? `: ${o.error.message}` : ''}`);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
