import { PanelctlError, ExitCode, toPanelctlError } from '../core/errors.js';
import type { Cli } from './context.js';

/**
 * Ctrl-C (or SIGTERM) during a panel command: the first one aborts the operation through its
 * AbortSignal, so drivers leave the panel cleanly (DSC presses [#] out of the keypad menu) and the
 * command ends with exit 130; a second one quits at once. Commands with their own signal handling
 * (shell, bulk apply, test-mode --wait, sim) do not use this, or hand it back with release().
 */
export interface InterruptGuard {
  release(): void;
  /** The error to report if the command failed because it was interrupted. */
  explain(error: unknown): unknown;
}

export function guardInterrupts(cli: Cli, command = ''): InterruptGuard {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      cli.out.notice('interrupted again: quitting now');
      process.exit(ExitCode.cancelled);
    }
    received = signal;
    cli.out.warn('interrupted: leaving the panel cleanly (press Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  cli.ctx.signal = controller.signal;
  const release = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (cli.ctx.signal === controller.signal) cli.ctx.signal = undefined;
  };
  cli.releaseInterrupts = release;
  return {
    release,
    explain(error) {
      if (!received) return error;
      const failure = toPanelctlError(error);
      if (failure.exitCode !== ExitCode.unreachable || failure.code !== 'E_ABORTED') return error;
      const exitCode = received === 'SIGTERM' ? ExitCode.terminated : ExitCode.cancelled;
      return new PanelctlError(exitCode, 'E_INTERRUPTED', `interrupted (${received}) while talking to the panel`, { hint: howToCheck(command, cli.panelName) });
    },
  };
}

/**
 * What can tell whether an interrupted write landed. No list shows codes (on no driver), so after a
 * code change only the keypad, or changing it again, can; a user added or removed shows in the list.
 */
function howToCheck(command: string, panel = 'PANEL'): string {
  const audit = `\`panelctl audit show --panel ${panel} --limit 5\` records the attempt`;
  if (command === 'set-code') {
    return `the new code may or may not have landed, and no listing shows codes: try the new code at the keypad, or run the same set-code again (safe to repeat); ${audit}`;
  }
  if (command === 'add' || command === 'remove') {
    return `the ${command === 'add' ? 'new user' : 'removal'} may or may not have landed: \`panelctl users list --panel ${panel}\` shows which; ${audit}`;
  }
  return 'nothing was being written to the panel';
}
