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

export function guardInterrupts(cli: Cli): InterruptGuard {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      process.stderr.write('interrupted again: quitting now\n');
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
      return new PanelctlError(ExitCode.cancelled, 'E_INTERRUPTED', `interrupted (${received}) while talking to the panel`, {
        hint: 'a change that was being written may or may not have landed: check with `panelctl users list` and `panelctl audit show`',
      });
    },
  };
}
