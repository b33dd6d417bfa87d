import { Option, type Command } from 'commander';
import type { Secret } from '../core/secret.js';
import { ExitCode, PanelctlError, UsageError, ValidationError } from '../core/errors.js';
import type { CodePolicy } from '../core/code-policy.js';
import type { GeneratedCodes } from '../bulk/codes.js';
import { askSecret } from './prompts.js';
import type { Cli } from './context.js';

// addCodeOptions runs for every command, --help included: what makes, reads and keeps codes
// (crypto, file checks, the codes file) is imported only when a code is really obtained.
const secrets = () => import('../core/secret.js');
const codePolicy = () => import('../core/code-policy.js');

/**
 * Where a new code comes from. Never argv: a code on the command line lands in shell
 * history and in `ps` for every user of the machine to read.
 */
export interface CodeFlags {
  codeStdin?: boolean;
  codeFile?: string;
  generate?: boolean;
  reveal?: boolean;
  codesFile?: string;
  /** --codes-out: the same output file under the name bulk uses. */
  codesOut?: string;
  allowWeak?: boolean;
  code?: string;
}

export function addCodeOptions(command: Command): Command {
  return command
    .option('--code-stdin', 'read the new code from standard input (one line)')
    .option('--code-file <file>', 'read the new code from a file only you can read (0600)')
    .option('--generate', 'generate a random code (CSPRNG) that passes the code policy')
    .option('--reveal', 'with --generate: show the generated code once on stdout (a terminal, or -o json)')
    .option('--codes-out <file>', 'with --generate: save the code in this codes file (yours, 0600) before it is sent')
    .addOption(new Option('--codes-file <file>', 'old name of --codes-out').hideHelp())
    .option('--allow-weak', 'accept a weak code (repeated digits, straight runs, common PINs)')
    .addOption(new Option('--code <code>').hideHelp());
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer | string));
  return Buffer.concat(chunks).toString('utf8');
}

/** The output codes file, under its name (--codes-out) or its older one (--codes-file). */
export function codesOutOf(flags: CodeFlags): string | undefined {
  if (flags.codesOut && flags.codesFile) throw new UsageError('--codes-file is the old name of --codes-out; give only one of them', { code: 'E_INVALID' });
  return flags.codesOut ?? flags.codesFile;
}

/**
 * Where a generated code may be shown: standard output that is a terminal (a person reads it
 * once), or a machine format asked for explicitly (-o json/ndjson: a program takes it). Plain
 * text redirected into a file or a log would be a codes file nobody checked.
 */
export function checkRevealAllowed(cli: Cli): void {
  if (process.stdout.isTTY || cli.out.machine) return;
  throw new UsageError('--reveal: standard output is not a terminal, so the code would land in a file or pipe that nobody checked', {
    code: 'E_INVALID',
    hint: 'save it with --codes-out FILE (created 0600), or ask for -o json if a program reads it',
  });
}

/** Checks the code-source flags; every refusal here happens before anything else is opened. */
function checkCodeFlags(flags: CodeFlags, cli: Cli): void {
  if (flags.code !== undefined) {
    throw new UsageError('--code: codes are never accepted on the command line (shell history and `ps` would show them)', {
      code: 'E_CODE_ARGV',
      hint: 'use --code-stdin, --code-file FILE, --generate, or type it at the prompt',
    });
  }
  const sources = [flags.codeStdin, flags.codeFile, flags.generate].filter(Boolean).length;
  if (sources > 1) throw new UsageError('choose one code source: --code-stdin, --code-file or --generate', { code: 'E_INVALID' });
  const codesOut = codesOutOf(flags);
  if ((flags.reveal || codesOut) && !flags.generate) throw new UsageError('--reveal and --codes-out go with --generate', { code: 'E_INVALID' });
  if (!flags.generate) return;
  if (flags.reveal && codesOut) throw new UsageError('choose one of --codes-out FILE and --reveal', { code: 'E_INVALID' });
  if (!flags.reveal && !codesOut) {
    throw new UsageError('--generate needs a place for the code: --codes-out FILE (saved 0600 before it is sent) or --reveal (shown once)', {
      code: 'E_INVALID',
      hint: 'without one the code would be set on the panel and known to nobody',
    });
  }
  if (flags.reveal) checkRevealAllowed(cli);
}

export async function obtainNewCode(flags: CodeFlags, cli: Cli, policy: CodePolicy): Promise<{ code: Secret; generated: boolean }> {
  checkCodeFlags(flags, cli);
  const { Secret } = await secrets();
  if (flags.generate) return { code: (await codePolicy()).generateCode(policy), generated: true };
  if (flags.codeStdin) {
    const line = (await readStdin(cli.io.stdin)).split(/\r?\n/)[0].trim();
    if (!line) throw new UsageError('--code-stdin: standard input was empty', { code: 'E_INVALID' });
    return { code: new Secret(line, 'new code'), generated: false };
  }
  if (flags.codeFile) {
    // Opened once, checked on the descriptor (yours, 0600, not a link), read from it.
    const { readPrivateFile } = await import('../state/safe-file.js');
    const line = (await readPrivateFile(flags.codeFile, 'code file', 64 * 1024)).split(/\r?\n/)[0].trim();
    if (!line) throw new UsageError(`--code-file: ${flags.codeFile} is empty`, { code: 'E_INVALID' });
    return { code: new Secret(line, 'new code'), generated: false };
  }
  if (!cli.interactive) {
    throw new UsageError('no new code given, and there is no terminal to ask on', {
      code: 'E_NO_TTY',
      hint: 'use --code-stdin, --code-file FILE or --generate',
    });
  }
  return { code: await askPolicyCode(policy, (message) => cli.out.warn(message)), generated: false };
}

/**
 * Asks for a new code on the terminal, masked: the policy is checked on the first entry, so a
 * refused code is asked for again at once (not after the second entry, and not by exiting);
 * then the code is asked for again to catch a typing slip. Three tries.
 */
export async function askPolicyCode(
  policy: CodePolicy,
  warn: (message: string) => void,
  ask: (message: string) => Promise<string> = askSecret,
): Promise<Secret> {
  const [{ Secret }, { checkCode }] = await Promise.all([secrets(), codePolicy()]);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const code = new Secret(await ask('New code:'), 'new code');
    try {
      checkCode(code, policy, 'new code');
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      warn(`${error.message}; try another`);
      continue;
    }
    if ((await ask('New code again:')) === code.reveal()) return code;
    warn('the two entries differ; try again');
  }
  throw new UsageError('no acceptable code after three tries; nothing was changed', { code: 'E_INVALID' });
}

/**
 * Opens the codes file a generated code will go to, and checks it, before anything is sent
 * (users: one file appended to across runs). Undefined when the code is revealed instead.
 */
export async function openCodesOut(flags: CodeFlags): Promise<GeneratedCodes | undefined> {
  const file = codesOutOf(flags);
  return file ? (await import('../bulk/codes.js')).GeneratedCodes.open(file, 'append') : undefined;
}

/** A connection that was never made (src/transport/tcp.ts): nothing can have been sent. */
const NEVER_CONNECTED = new Set(['E_REFUSED', 'E_CONNECT']);

/** True when a failure proves the change did not land (refused by the panel, never sent, never connected). */
function provenNotLanded(error: unknown): boolean {
  if (!(error instanceof PanelctlError)) return false;
  if (error.code === 'E_UNCERTAIN') return false;
  if (NEVER_CONNECTED.has(error.code)) return true;
  return error.exitCode === ExitCode.usage || error.exitCode === ExitCode.refused || error.exitCode === ExitCode.unsupported;
}

/**
 * Runs one change with a generated code saved first: `beforeSend` (called by the operation
 * after its own checks, just before it connects) writes the code to the codes file, fsync'd,
 * as `pending`; afterwards the line says `applied`, is dropped (the change provably did not
 * land) or says `unconfirmed` (it may have). Without a codes file it just runs.
 */
export async function withSavedCode<T>(
  codes: GeneratedCodes | undefined,
  where: { panel: string; slot?: number; name?: string },
  code: Secret,
  change: (beforeSend: () => Promise<void>) => Promise<T>,
  found: (result: T) => { slot: number; name?: string },
  warn: (message: string) => void = () => undefined,
): Promise<T> {
  if (!codes) return change(async () => undefined);
  let line: Awaited<ReturnType<GeneratedCodes['record']>> | undefined;
  try {
    const result = await change(async () => {
      line = await codes.record(where.panel, where.slot, where.name, code);
    });
    if (line) codes.settle(line, 'applied', found(result));
    await codes.finish();
    return result;
  } catch (error) {
    if (line) {
      if (provenNotLanded(error)) codes.forget(line);
      else {
        codes.settle(line, 'unconfirmed');
        const slot = where.slot === undefined ? 'the slot the panel picked' : `slot ${where.slot}`;
        warn(`the new code may be in force on ${where.panel} (${slot}): it is kept in ${codes.file} as "unconfirmed"; check it before drawing another`);
      }
      await codes.finish().catch(() => undefined);
    } else {
      await codes.discard();
    }
    throw error;
  }
}
