import { generateCode, type CodePolicy } from '../../core/code-policy.js';
import type { Secret } from '../../core/secret.js';
import { askPolicyCode } from '../code-input.js';
import { CancelledError } from '../prompts.js';
import type { ShellSession } from './session.js';
import { choose, eraseRowsAbove, pressEnter, rowsOnScreen } from './ui.js';

/**
 * A new code, interactively: typed masked and twice, checked against the panel's policy
 * before anything is sent; or drawn from the CSPRNG and shown once, after it is verified.
 */
export interface NewCode {
  code: Secret;
  generated: boolean;
}

export async function chooseNewCode(shell: ShellSession, policy: CodePolicy): Promise<NewCode> {
  const lengths =
    policy.allowedLengths?.join(' or ') ?? (policy.minLength === policy.maxLength ? `${policy.minLength}` : `${policy.minLength}-${policy.maxLength}`);
  const how = await choose<'type' | 'generate'>(`New code (${lengths} digits):`, [
    { value: 'type', name: 'Type it (masked, twice)', description: 'for a code the customer chose and tells you' },
    { value: 'generate', name: 'Generate one', description: 'a random code that passes the rules, shown once after it is saved, to read out' },
  ]);
  if (how === 'generate') return { code: generateCode(policy), generated: true };
  // The policy is checked on the first entry, so a refused code is asked for again at once, as
  // the one-shot commands do; the shell's warning names no flag (--allow-weak is for commands).
  const code = await askPolicyCode(policy, (message) => shell.out.warn(message.replace(/ \(use --allow-weak[^)]*\)/, '')));
  return { code, generated: false };
}

/**
 * Shows a generated code once for reading to the customer, then takes it off the screen
 * (screens get shared and photographed). Ctrl-C here just clears it: the change is done.
 * The rows to clear are counted as the terminal shows them: a line longer than the terminal
 * is wide wraps onto more rows (a narrow window, a long name), and each of those is cleared.
 */
export async function revealOnce(shell: ShellSession, where: string, code: Secret): Promise<void> {
  const { color } = shell.out;
  const lines = [shell.out.printable(`  New code for ${where}: ${color.bold(code.reveal())}`), '  Read it to the customer now: it is not shown again.'];
  shell.out.notice(lines.join('\n'));
  const rows = await rowsOnScreen(lines, shell.out.stderr.columns);
  try {
    await pressEnter('Press Enter when the customer has it (it is then cleared from the screen)');
  } catch (error) {
    if (!(error instanceof CancelledError)) throw error;
  }
  eraseRowsAbove(shell.out, rows);
  shell.out.notice(`  ${color.dim(`(the new code for ${where} was shown and cleared)`)}`);
}
