import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { ExitCode, toPanelctlError } from '../core/errors.js';
import { scrubSecrets } from '../core/secret.js';
import { lastResort } from '../output/last-resort.js';
import { registerUsers } from './commands/users.js';
import { registerInfo } from './commands/info.js';
import { registerAudit } from './commands/audit.js';
import { registerSim } from './commands/sim.js';
import { registerTestMode } from './commands/test-mode.js';
import { registerBulk } from './commands/bulk.js';
import { registerShell } from './commands/shell.js';
import { registerPorts } from './commands/ports.js';
import type { DriverRegistry } from '../core/contract.js';
import { bindEnvironment, type CliIO } from './environment.js';
import { registerState } from './commands/state.js';

declare const __PANELCTL_VERSION__: string | undefined;

/**
 * Inlined by the bundler (scripts/build.mjs), so start-up reads no file; the tsc output
 * (dist/src/cli) and the sources run in process by tests (src/cli) read package.json.
 */
function panelctlVersion(): string {
  if (typeof __PANELCTL_VERSION__ === 'string') return __PANELCTL_VERSION__;
  for (const up of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'panelctl') return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}

/**
 * Each registrar with the top-level commands it adds. A command line that names one of them gets a
 * program with that registrar's commands only: commander's work for the other eight is most of the
 * ~1 ms that building the program costs at every start (issue 20). Everything else (help, the bare
 * command, an unknown or misspelt command, a flag we do not read past) gets the whole program.
 * test/cli/program.test.ts checks these names against what each registrar adds.
 */
export const REGISTRARS: ReadonlyArray<{ names: readonly string[]; register: (program: Command) => void }> = [
  { names: ['users'], register: registerUsers },
  { names: ['info', 'panels', 'drivers'], register: registerInfo },
  { names: ['audit'], register: registerAudit },
  { names: ['test-mode'], register: registerTestMode },
  { names: ['bulk'], register: registerBulk },
  { names: ['shell'], register: registerShell },
  { names: ['ports', 'probe'], register: registerPorts },
  { names: ['sim'], register: registerSim },
  { names: ['state', 'locks'], register: registerState },
];

/**
 * The program for one command line (argv as process.argv: node, script, args...); without argv, or
 * when the command is not plain to see, the whole program.
 */
export function buildProgram(io: Pick<CliIO, 'stdout' | 'stderr'> = process, argv?: readonly string[]): Command {
  const program = new Command('panelctl')
    .description('Manage user codes and test mode on intruder-alarm panels, remotely or on site.')
    .version(panelctlVersion(), '-V, --version')
    // Before any subcommand is added: subcommands copy this, so their help shows the global flags too.
    .configureHelp({ showGlobalOptions: true, optionDescription: describeOption })
    .configureOutput({ writeOut: (text) => void io.stdout.write(text), writeErr: (text) => void io.stderr.write(text) })
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'ndjson']).default('table'))
    .option('--no-color', 'no colour (also NO_COLOR=1)')
    .option('-y, --yes', 'answer yes to confirmations (for scripts)')
    .addOption(new Option('--timeout <duration>', 'how long to wait for a panel to answer: 30s, 1m, 1m30s (a bare number is seconds)').default(undefined, '5s'))
    .option('--ticket <id>', 'support ticket this work is for (recorded in the audit log; or PANELCTL_TICKET)')
    .option('--operator <name>', 'who is acting (recorded in the audit log; default: PANELCTL_OPERATOR or your login)')
    .option('-i, --inventory <file>', 'inventory YAML (default: PANELCTL_INVENTORY or ~/.config/panelctl/inventory.yaml)')
    .option(
      '--detailed-exitcode',
      `exit ${ExitCode.attention} instead of 0 when the command worked but something needs a person (conflicts, failed steps, overdue leases)`,
    )
    .option('--debug', 'trace frames on stderr (codes are masked)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 unexpected (a bug), 2 bad usage or input (nothing changed), 3 panel refused,
4 cannot reach or lost the panel, 5 protocol error, 6 not supported, 7 partially applied,
${ExitCode.attention} needs attention (only with --detailed-exitcode), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
Try it: panelctl users list --panel demo`,
  );
  const named = argv && commandNamed(program, argv.slice(2));
  const registrar = named ? REGISTRARS.find((r) => r.names.includes(named)) : undefined;
  for (const { register } of registrar ? [registrar] : REGISTRARS) register(program);
  for (const command of program.commands) setExitOverride(command);
  return program;
}

/**
 * The first word of the command line, read past the program's own options (and their values), or
 * undefined when a help or version flag, `--` or a flag the program does not know comes first.
 */
function commandNamed(program: Command, args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('-')) return arg;
    const [flag, inline] = arg.startsWith('--') ? [arg.split('=')[0], arg.includes('=')] : [arg.slice(0, 2), arg.length > 2];
    const option = program.options.find((o) => o.long === flag || o.short === flag);
    if (!option || option.long === '--help' || option.long === '--version') return undefined;
    if ((option.required || option.optional) && !inline) i++;
  }
  return undefined;
}

/**
 * An option's help line, with its choices and default as values (`default: 16`), not as the
 * JSON strings commander shows (`default: "16"`), and without the empty list of a repeatable flag.
 */
function describeOption(option: Option): string {
  const extra: string[] = [];
  if (option.argChoices) extra.push(`choices: ${option.argChoices.join(', ')}`);
  const value = option.defaultValue as unknown;
  const shown =
    option.defaultValueDescription ?? (Array.isArray(value) ? (value.length ? value.join(', ') : undefined) : value === undefined ? undefined : String(value));
  if (shown !== undefined && !option.negate && (option.required || option.optional)) extra.push(`default: ${shown}`);
  return extra.length ? `${option.description} (${extra.join(', ')})` : option.description;
}

function setExitOverride(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) setExitOverride(sub);
}

async function report(error: unknown, io: Pick<CliIO, 'stderr'>, argv: string[]): Promise<number> {
  if (error instanceof CommanderError) {
    // Help and version are exits, not errors; every other commander complaint is bad usage.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
    return ExitCode.usage;
  }
  const failure = toPanelctlError(error);
  const [{ Output, colorWanted }, { paletteFor }] = await Promise.all([import('../output/output.js'), import('../output/palette.js')]);
  const format = machineFormatRequested(argv) ? 'json' : 'table';
  const out = new Output({
    format: format as 'json',
    color: await paletteFor(colorWanted(argv.includes('--no-color') ? false : undefined, process.stderr)),
    interactive: false,
    streams: { stdout: io.stderr, stderr: io.stderr },
  });
  out.error(failure);
  if (failure.exitCode === ExitCode.unexpected && process.env.PANELCTL_DEBUG) {
    out.notice(scrubSecrets(String((failure.cause as Error)?.stack ?? failure.stack)));
  }
  return failure.exitCode;
}

/** Whether -o/--output asked for json or ndjson (read from argv: parsing may be what failed). */
function machineFormatRequested(argv: string[]): boolean {
  return argv.some((arg, i) => {
    const value = arg.startsWith('--output=')
      ? arg.slice(9)
      : arg === '-o' || arg === '--output'
        ? argv[i + 1]
        : arg.startsWith('-o') && arg.length > 2
          ? arg.slice(2)
          : undefined;
    return value === 'json' || value === 'ndjson';
  });
}

/** Last-resort handlers: whatever escapes is reported without secrets and with exit 1. */
function installCrashGuards(): void {
  const crash = (kind: string) => (reason: unknown) => {
    const text = reason instanceof Error ? `${reason.message}` : String(reason);
    lastResort(`panelctl: internal error (${kind}): ${scrubSecrets(text)}`);
    process.exit(ExitCode.unexpected);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled rejection'));
}

/**
 * A reader that stops early (`panelctl bulk status PLAN | head -1`) closes the pipe. Unix tools die
 * quietly by SIGPIPE; Node gets EPIPE instead. Then stop printing, let the command finish what it
 * was doing (a write to a panel is never cut short by a closed pipe), and exit with its own code.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
        stream.write = (() => true) as typeof stream.write;
        return;
      }
      if (stream === process.stderr) return; // nowhere left to report it
      lastResort(`panelctl: cannot write the output: ${error.message}`);
      process.exit(ExitCode.unexpected);
    });
  }
}

/** How a run is composed: which drivers exist and which streams it uses. Defaults: the shipped drivers, the process's streams. */
export interface RunOptions {
  /** Loaded when a command needs drivers, not before (--help loads none). */
  drivers?: () => Promise<DriverRegistry>;
  io?: Partial<CliIO>;
}

/** The shipped drivers: the one place outside drivers/ that imports drivers/index.ts (the composition root). */
const shippedDrivers = async (): Promise<DriverRegistry> => (await import('../../drivers/index.js')).drivers;

/**
 * Runs one command line in this process and returns its exit code: the binary's main, and tests
 * that run the CLI with a registry holding a test driver (test/support/in-process.ts).
 */
export async function run(argv: string[], options: RunOptions = {}): Promise<number> {
  const io: CliIO = {
    // On first use: Node makes process.stdin (a stream over the file, pipe or terminal) when it is first
    // read, ~2.5 ms, and only --code-stdin reads it (issue 20).
    get stdin() {
      return options.io?.stdin ?? process.stdin;
    },
    stdout: options.io?.stdout ?? process.stdout,
    stderr: options.io?.stderr ?? process.stderr,
  };
  const program = buildProgram(io, argv);
  bindEnvironment(program, { drivers: options.drivers ?? shippedDrivers, io });
  // Commands report a non-zero outcome through process.exitCode; a run reads it and leaves it as it was.
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    if (argv.length <= 2) {
      const { isInteractive } = await import('./prompts.js');
      if (!isInteractive()) {
        program.outputHelp({ error: true });
        return ExitCode.usage;
      }
      argv = [...argv, program.commands.some((c) => c.name() === 'shell') ? 'shell' : '--help'];
    }
    try {
      await program.parseAsync(argv);
    } catch (error) {
      return await report(error, io, argv);
    }
    return Number(process.exitCode ?? ExitCode.ok);
  } finally {
    process.exitCode = before;
  }
}

export async function main(argv: string[]): Promise<void> {
  installCrashGuards();
  quietOnClosedPipe();
  process.exitCode = await run(argv);
}
