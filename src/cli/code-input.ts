import fs from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { Secret } from '../core/secret.js';
import { UsageError } from '../core/errors.js';
import { generateCode, type CodePolicy } from '../core/code-policy.js';
import { appendPrivateLine, assertPrivateFile } from '../state/private-files.js';
import { askNewCode } from './prompts.js';
import type { Cli } from './context.js';

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
  allowWeak?: boolean;
  code?: string;
}

export function addCodeOptions(command: Command): Command {
  return command
    .option('--code-stdin', 'read the new code from standard input (one line)')
    .option('--code-file <file>', 'read the new code from a file only you can read (0600)')
    .option('--generate', 'generate a random code (CSPRNG) that passes the code policy')
    .option('--reveal', 'with --generate: show the generated code once on stdout')
    .option('--codes-file <file>', 'with --generate: append "panel,slot,name,code" to this 0600 file')
    .option('--allow-weak', 'accept a weak code (repeated digits, straight runs, common PINs)')
    .addOption(new Option('--code <code>').hideHelp());
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function obtainNewCode(flags: CodeFlags, cli: Cli, policy: CodePolicy): Promise<{ code: Secret; generated: boolean }> {
  if (flags.code !== undefined) {
    throw new UsageError('--code: codes are never accepted on the command line (shell history and `ps` would show them)', {
      code: 'E_CODE_ARGV',
      hint: 'use --code-stdin, --code-file FILE, --generate, or type it at the prompt',
    });
  }
  const sources = [flags.codeStdin, flags.codeFile, flags.generate].filter(Boolean).length;
  if (sources > 1) throw new UsageError('choose one code source: --code-stdin, --code-file or --generate', { code: 'E_INVALID' });
  if ((flags.reveal || flags.codesFile) && !flags.generate) throw new UsageError('--reveal and --codes-file go with --generate', { code: 'E_INVALID' });

  if (flags.generate) return { code: generateCode(policy), generated: true };
  if (flags.codeStdin) {
    const line = (await readStdin()).split(/\r?\n/)[0].trim();
    if (!line) throw new UsageError('--code-stdin: standard input was empty', { code: 'E_INVALID' });
    return { code: new Secret(line, 'new code'), generated: false };
  }
  if (flags.codeFile) {
    await assertPrivateFile(flags.codeFile, 'code file');
    const line = (await fs.readFile(flags.codeFile, 'utf8')).split(/\r?\n/)[0].trim();
    if (!line) throw new UsageError(`--code-file: ${flags.codeFile} is empty`, { code: 'E_INVALID' });
    return { code: new Secret(line, 'new code'), generated: false };
  }
  if (!cli.interactive) {
    throw new UsageError('no new code given, and there is no terminal to ask on', {
      code: 'E_NO_TTY',
      hint: 'use --code-stdin, --code-file FILE or --generate',
    });
  }
  return { code: new Secret(await askNewCode('New code'), 'new code'), generated: false };
}

/** Hands a generated code to the person who asked for it: once on stdout, or into their codes file. */
export async function deliverGeneratedCode(flags: CodeFlags, cli: Cli, where: { panel: string; slot: number; name?: string }, code: Secret): Promise<{ revealed: boolean; codesFile?: string }> {
  if (flags.codesFile) {
    try {
      await assertPrivateFile(flags.codesFile, 'codes file');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const name = (where.name ?? '').replaceAll(',', ' ');
    await appendPrivateLine(flags.codesFile, `${where.panel},${where.slot},${name},${code.reveal()}`);
    return { revealed: false, codesFile: flags.codesFile };
  }
  if (flags.reveal) return { revealed: true };
  cli.out.warn('the generated code was not shown or saved (no --reveal or --codes-file); set a new one with `users set-code`');
  return { revealed: false };
}
