import { CancelledError, guard } from '../prompts.js';
import { printable, printableMessage } from '../../output/printable.js';
import type { Output } from '../../output/output.js';

/**
 * The shell's screen: menus, type-ahead search and a spinner for panel work. The prompt and
 * spinner libraries load on first use (they cost ~150 ms together). Prompts draw on stderr,
 * like every other prompt of panelctl; Ctrl-C at any of them becomes a CancelledError.
 * Menu entries hold names read from panels and the inventory: they are made printable here.
 */

function printableChoices<T>(choices: MenuChoice<T>[]): MenuChoice<T>[] {
  return choices.map((c) => ({
    ...c,
    name: printable(c.name),
    description: c.description === undefined ? undefined : printable(c.description),
    disabled: typeof c.disabled === 'string' ? printable(c.disabled) : c.disabled,
  }));
}

export interface MenuChoice<T> {
  value: T;
  name: string;
  description?: string;
  /** Shown greyed out with this reason, and cannot be chosen. */
  disabled?: string | boolean;
}

export function isCancel(error: unknown): boolean {
  return error instanceof CancelledError;
}

/** A numbered menu: arrows or the entry's number, then Enter. */
export async function choose<T>(message: string, choices: MenuChoice<T>[], defaultValue?: T): Promise<T> {
  const { select } = await import('@inquirer/prompts');
  return guard(() =>
    select<T>(
      {
        message: printableMessage(message, false),
        choices: printableChoices(choices),
        default: defaultValue,
        pageSize: Math.min(choices.length, 12),
        loop: false,
        theme: { indexMode: 'number' },
      },
      { output: process.stderr },
    ),
  );
}

/** Type-ahead: `source` is asked again for every keystroke. */
export async function searchFor<T>(message: string, source: (term: string) => MenuChoice<T>[]): Promise<T> {
  const { search } = await import('@inquirer/prompts');
  return guard(() =>
    search<T>({ message: printableMessage(message, false), source: (term) => printableChoices(source(term ?? '')), pageSize: 10 }, { output: process.stderr }),
  );
}

/** Waits for Enter, then removes the prompt line from the screen. */
export async function pressEnter(message: string): Promise<void> {
  const { input } = await import('@inquirer/prompts');
  await guard(() => input({ message }, { output: process.stderr, clearPromptOnDone: true }));
}

/**
 * How many terminal rows `lines` take when printed at `columns` wide: a line wider than the
 * terminal wraps onto further rows (display width, so a wide character counts two columns).
 * Unknown width (not a terminal): one row per line.
 */
export async function rowsOnScreen(lines: readonly string[], columns: number | undefined): Promise<number> {
  const { default: stringWidth } = await import('string-width');
  return lines.reduce((rows, line) => rows + (columns && columns > 0 ? Math.max(1, Math.ceil(stringWidth(line) / columns)) : 1), 0);
}

/** Moves the cursor up over `rows` rows and clears from there to the end of the screen (to take a revealed code off it). */
export function eraseRowsAbove(out: Output, rows: number): void {
  out.terminal(`\x1b[${rows}A\r\x1b[J`);
}

interface Spinner {
  text: string;
  start(): void;
  stop(): void;
}

let colour = true;

/** NO_COLOR / --no-color: also reaches the prompt and spinner libraries, which read the environment when they load. */
export function setColour(wanted: boolean): void {
  colour = wanted;
  if (!wanted) process.env.NO_COLOR = '1';
}

async function makeSpinner(text: string): Promise<Spinner> {
  const { default: ora } = await import('ora');
  // discardStdin: keys typed while the panel works are not echoed or queued for the next prompt;
  // Ctrl-C still reaches us as SIGINT.
  return ora({ text, stream: process.stderr, color: colour ? 'cyan' : false, discardStdin: true });
}

/** The panel work in progress, so a prompt needed in the middle of it (a credential, a confirmation) can pause it. */
let current: { spinner: Spinner; listen(on: boolean): void } | undefined;

/**
 * Runs panel work under a spinner, with a Ctrl-C policy that never leaves a change half-done:
 * - 'read': Ctrl-C aborts the connection at once and the step ends as cancelled;
 * - 'write': Ctrl-C is noted and the change runs to its verified end; then `interrupted` is true.
 * `work` gets the AbortSignal to pass to the operation (reads only).
 */
export async function busy<T>(
  what: string,
  kind: 'read' | 'write',
  work: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<{ result: T; interrupted: boolean }> {
  const text = printable(what);
  const controller = new AbortController();
  let interrupted = false;
  const spinner = await makeSpinner(text);
  const onSigint = () => {
    interrupted = true;
    if (kind === 'read') controller.abort(new CancelledError());
    else spinner.text = `${text} - finishing this change first, so it is not left half-done`;
  };
  const listen = (on: boolean) => (on ? process.on('SIGINT', onSigint) : process.off('SIGINT', onSigint));
  const outer = current;
  current = { spinner, listen };
  listen(true);
  spinner.start();
  try {
    const result = await work(kind === 'read' ? controller.signal : undefined);
    if (kind === 'read' && interrupted) throw new CancelledError();
    return { result, interrupted };
  } catch (error) {
    if (kind === 'read' && controller.signal.aborted) throw new CancelledError();
    throw error;
  } finally {
    spinner.stop();
    listen(false);
    current = outer;
  }
}

/**
 * Stops the spinner (and its Ctrl-C policy) while the person answers a prompt in the middle of
 * panel work; the spinner then goes on, saying what `then` makes of the answer.
 */
export async function paused<T>(ask: () => Promise<T>, then?: (answer: T) => string | undefined): Promise<T> {
  const active = current;
  if (!active) return ask();
  active.spinner.stop();
  active.listen(false);
  try {
    const answer = await ask();
    const next = then?.(answer);
    if (next !== undefined) active.spinner.text = printable(next);
    return answer;
  } finally {
    active.listen(true);
    active.spinner.start();
  }
}
