import { askConfirm, askText } from '../prompts.js';
import { parseDuration } from '../context.js';
import type { ShellAction } from './actions.js';
import type { PanelView, ShellSession } from './session.js';
import { busy, paused } from './ui.js';
import { localTime } from '../../output/time.js';
import { toPanelctlError } from '../../core/errors.js';
import type { Target } from '../../inventory/targets.js';

/**
 * The shell's test-mode entries (start, stop), shown after "Remove a user" and before the audit view. They run the same operations as `panelctl test-mode start|stop`, so the station is
 * told first, the lease is written, and the audit entry is the same.
 */

async function deps(shell: ShellSession) {
  const { testModeDeps } = await import('../actions/test-mode.js');
  return testModeDeps(
    shell.cli,
    {},
    (message) => paused(() => askConfirm(message)),
    (line) => void paused(async () => shell.out.notice(shell.out.color.bold(line))),
  );
}

async function currentLease(shell: ShellSession, panel: PanelView) {
  const { readLease } = await import('../../state/leases.js');
  return readLease(shell.cli.ctx.stateDir, panel.target.name);
}

const when = localTime;

export const testModeActions: ShellAction[] = [
  {
    label: 'Start test mode',
    description: 'tell the monitoring station, then put the panel on test where it can be',
    async run(shell, panel) {
      const existing = await currentLease(shell, panel);
      if (existing) {
        shell.out.say(shell.out.color.yellow(`${panel.target.name} is already on test until ${when(existing.until)} (by ${existing.operator}).`));
        return;
      }
      const ctx = await shell.writeContext();
      const length = await askText('For how long?', {
        default: '45m',
        validate: (v) => {
          try {
            parseDuration(v, 'duration');
            return true;
          } catch (error) {
            return (error as Error).message;
          }
        },
      });
      const durationMs = parseDuration(length, 'duration');
      const reason = (await askText('Reason (Enter for none):')).trim() || undefined;
      const panelHalf = panel.panelInfo.capabilities.includes('test-mode')
        ? 'then the panel goes into its test mode'
        : 'panelctl offers no test mode for this panel as set up, so only the station is told';
      if (
        !(await askConfirm(`Put ${panel.target.name} (account ${panel.target.account ?? '-'}) on test for ${length}? The station is told first; ${panelHalf}.`))
      ) {
        shell.out.say(shell.out.color.dim('Not done: nothing was changed.'));
        return;
      }
      const { startTestMode } = await import('../../operations/test-mode.js');
      const testDeps = await deps(shell);
      const { result } = await busy(`putting ${panel.target.name} on test`, 'write', () => startTestMode(panel.target, ctx, testDeps, { durationMs, reason }));
      shell.testsToRemind.set(panel.target.name, panel.target);
      shell.out.say(
        `${shell.out.color.green('✓')} ${panel.target.name} is ON TEST until ${when(result.lease.until)}: station told${result.panelSwitched ? ', panel in test mode' : ''}.`,
      );
      shell.out.say(shell.out.color.dim('Remember to stop it when the test is done (or `panelctl test-mode sweep` ends it when the time is up).'));
    },
  },
  {
    label: 'Stop test mode',
    description: "end the panel's test mode, then tell the station",
    async run(shell, panel) {
      const lease = await currentLease(shell, panel);
      if (!lease && !panel.panelInfo.capabilities.includes('test-mode')) {
        shell.out.say(`${panel.target.name} is not on test.`);
        return;
      }
      await shell.writeContext(); // operator and ticket first, as for every change
      if (!(await askConfirm(`End test mode on ${panel.target.name}${lease ? ` (on test until ${when(lease.until)})` : ''}?`, { defaultYes: true }))) {
        shell.out.say(shell.out.color.dim('Not done: nothing was changed.'));
        return;
      }
      await endTest(shell, panel.target);
    },
  },
];

/** Ends test mode on a panel (panel first, then the station), as `panelctl test-mode stop` does. */
async function endTest(shell: ShellSession, target: Target): Promise<void> {
  const ctx = await shell.writeContext();
  const { stopTestMode } = await import('../../operations/test-mode.js');
  const testDeps = await deps(shell);
  const { result } = await busy(`ending test mode on ${target.name}`, 'write', () => stopTestMode(target, ctx, testDeps));
  shell.testsToRemind.delete(target.name);
  shell.out.say(
    result.wasOnTest ? `${shell.out.color.green('✓')} ${target.name} is off test (panel and station).` : `${target.name} was not on test; nothing to do.`,
  );
}

/** The panels this session put on test that are still on test (their lease is there). */
async function stillOnTest(shell: ShellSession) {
  const { readLease } = await import('../../state/leases.js');
  const found = [];
  for (const target of shell.testsToRemind.values()) {
    const lease = await readLease(shell.cli.ctx.stateDir, target.name).catch(() => undefined);
    if (lease) found.push({ target, lease });
    else shell.testsToRemind.delete(target.name);
  }
  return found;
}

/**
 * Before "Quit": a panel this session put on test must not be left on test unseen. For each
 * one still on test: say so and offer to end it now (Enter = yes); a "no" leaves a reminder.
 */
export async function beforeQuit(shell: ShellSession): Promise<void> {
  for (const { target, lease } of await stillOnTest(shell)) {
    const end = await askConfirm(`${target.name} is still ON TEST until ${when(lease.until)}. End test mode on it now (panel and station)?`, {
      defaultYes: true,
    });
    if (end) {
      try {
        await endTest(shell, target);
        continue;
      } catch (error) {
        shell.out.error(toPanelctlError(error));
      }
    }
    remind(shell, target.name, lease.until);
  }
}

/** On Ctrl-C out of the shell (no more questions): a reminder for each panel still on test. */
export async function remindOnExit(shell: ShellSession): Promise<void> {
  for (const { target, lease } of await stillOnTest(shell)) remind(shell, target.name, lease.until);
}

function remind(shell: ShellSession, panel: string, until: string): void {
  shell.out.warn(
    `${panel} is still ON TEST until ${when(until)}: end it with \`panelctl test-mode stop --panel ${panel}\` (or \`panelctl test-mode sweep\` ends it when the time is up)`,
  );
}
