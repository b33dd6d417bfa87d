import { ExitCode, PanelctlError } from '../core/errors.js';
import { printableMessage } from '../output/printable.js';

/**
 * Prompts load @inquirer/prompts only when a prompt is really shown (it costs ~70 ms to load).
 * Questions may quote names from panels: they are made printable (src/output/printable.ts).
 */
const ask = (message: string) => printableMessage(message, false);

export function isInteractive(): boolean {
  // stderr first: without a terminal there, process.stdin is never made (~2.5 ms, see src/cli/main.ts run()).
  return Boolean(process.stderr.isTTY && process.stdin.isTTY) && process.env.CI !== 'true';
}

/** Ctrl-C at a prompt: back out cleanly with the conventional exit code. */
export class CancelledError extends PanelctlError {
  constructor() {
    super(ExitCode.cancelled, 'E_CANCELLED', 'cancelled; nothing was changed by the step that was being asked about');
  }
}

/** Runs a prompt; Ctrl-C (the prompt library's exit or abort) becomes CancelledError. */
export async function guard<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) throw new CancelledError();
    throw error;
  }
}

export async function askSecret(message: string): Promise<string> {
  const { password } = await import('@inquirer/prompts');
  return guard(() => password({ message: ask(message), mask: '*' }, { output: process.stderr }));
}

/** A yes/no question; `defaultYes` makes Enter mean yes (for the step the person just chose). */
export async function askConfirm(message: string, options: { defaultYes?: boolean } = {}): Promise<boolean> {
  const { confirm } = await import('@inquirer/prompts');
  return guard(() => confirm({ message: ask(message), default: options.defaultYes ?? false }, { output: process.stderr }));
}

export async function askText(message: string, options: { default?: string; validate?: (v: string) => true | string } = {}): Promise<string> {
  const { input } = await import('@inquirer/prompts');
  return guard(() =>
    input(
      {
        message: ask(message),
        default: options.default,
        validate:
          options.validate &&
          ((value: string) => {
            const verdict = options.validate?.(value) ?? true;
            return verdict === true ? true : ask(verdict);
          }),
      },
      { output: process.stderr },
    ),
  );
}
