import os from 'node:os';
import type { Command } from 'commander';
import { access } from 'node:fs/promises';
import { ExitCode, PanelctlError, UsageError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import { Output, colorWanted, type OutputFormat } from '../output/output.js';
import { paletteFor } from '../output/palette.js';
import type { Activity, OperationContext } from '../operations/context.js';
import type { Ora } from 'ora';
import { defaultInventoryPath, stateDir } from '../state/paths.js';
import type { InventoryFile } from '../inventory/schema.js';
import { resolveTarget, type Target } from '../inventory/targets.js';
import { askSecret, isInteractive } from './prompts.js';
import { selectStateStore } from '../state/select.js';
import { READ_ONLY_COMMANDS, readOnlyWorkLocks, workLocksFor } from '../state/work-locks.js';
import type { DriverRegistry } from '../core/contract.js';
import type { CliIO } from './environment.js';
import { sharedStore } from '../state/store.js';
import type { Lease } from '../state/leases.js';

export interface GlobalOptions {
  output: string;
  color?: boolean;
  yes?: boolean;
  timeout?: string;
  ticket?: string;
  operator?: string;
  inventory?: string;
  debug?: boolean;
  verbose?: boolean;
  detailedExitcode?: boolean;
}

/** Everything a command needs, built from the global flags. */
export interface Cli {
  out: Output;
  /** The streams of this run (process.stdin/stdout/stderr, or an in-process run's). */
  io: CliIO;
  ctx: OperationContext;
  globals: GlobalOptions;
  interactive: boolean;
  inventory(): Promise<InventoryFile>;
  /** The panel this command resolved (for messages after a failure). */
  panelName?: string;
  /** Hands Ctrl-C back to the command (set while an interrupt guard is active; see interrupt.ts). */
  releaseInterrupts?: () => void;
  /**
   * The command worked, but something needs a person (conflicts, failed steps, overdue leases).
   * With --detailed-exitcode that is exit 8 (unless a failure already set another code); without, nothing changes.
   */
  attention(reason: string): void;
  /** Resolves the panel; unless told otherwise, says loudly when it is on test. */
  target(options: TargetFlags, behaviour?: { leaseNote?: boolean }): Promise<Target>;
}

export interface TargetFlags {
  panel?: string;
  link?: string;
  driver?: string;
  secretFrom?: string;
  /** --option KEY=VALUE, repeatable. */
  option?: string[];
}

/** The one duration parser (src/core/duration.ts), re-exported for the commands and the shell. */
export { parseDuration } from '../core/duration.js';

export async function buildCli(command: Command, environment: { drivers: DriverRegistry; io: CliIO }): Promise<Cli> {
  const globals = command.optsWithGlobals() as GlobalOptions;
  const format = globals.output as OutputFormat;
  if (!['table', 'json', 'ndjson'].includes(format)) throw new UsageError('-o/--output: must be table, json or ndjson', { code: 'E_INVALID' });
  const interactive = isInteractive();
  const { io } = environment;
  const out = new Output({ format, color: await paletteFor(colorWanted(globals.color)), interactive: interactive && format === 'table', streams: io });
  let inventoryCache: Promise<InventoryFile> | undefined;
  const inventoryPath = globals.inventory ?? defaultInventoryPath();
  const inventoryOrigin = globals.inventory ? '--inventory' : process.env.PANELCTL_INVENTORY ? 'PANELCTL_INVENTORY' : 'the default path';
  // Loaded on first use: the schema and YAML libraries cost ~150 ms that status or audit never need.
  const inventory = () =>
    (inventoryCache ??= import('../inventory/read.js').then(({ readInventory }) =>
      readInventory(inventoryPath, inventoryOrigin !== 'the default path', inventoryOrigin, environment.drivers),
    ));

  const ctx: OperationContext = {
    drivers: environment.drivers,
    operator: globals.operator ?? process.env.PANELCTL_OPERATOR ?? safeUsername(),
    ticket: globals.ticket ?? process.env.PANELCTL_TICKET,
    stateDir: stateDir(),
    timeoutMs: globals.timeout ? parseDuration(globals.timeout, '--timeout', { bareNumber: 'seconds' }) : 5000,
    promptSecret: interactive ? (label) => askSecret(label) : undefined,
    activity: out.interactive ? spinnerActivities(out.stderr) : undefined,
    // Traces can quote what a panel sent (LCD text): printable, like every other line (src/output/printable.ts).
    trace: globals.debug ? (direction, text) => out.trace(direction, text) : undefined,
    notice: (text) => out.notice(text),
    command: commandPath(command),
  };
  selectStateStore(ctx.stateDir, inventoryPath, inventory);
  // With a shared store the ON TEST warning comes from the lock's own statement (one round trip before the panel).
  let noteAtLock: string | undefined;
  const locks = READ_ONLY_COMMANDS.has(ctx.command ?? '') ? readOnlyWorkLocks(ctx.stateDir, (text) => out.warn(text)) : workLocksFor(ctx.stateDir);
  ctx.workLocks = {
    acquire: (key, holder) =>
      locks.acquire(key, { ...holder, onLease: (lease) => (noteAtLock === holder.panel && lease ? showLease(out, holder.panel, lease) : undefined) }),
  };
  const cli: Cli = {
    out,
    io,
    ctx,
    globals,
    interactive,
    inventory,
    attention(reason) {
      if (!globals.detailedExitcode || (process.exitCode !== undefined && process.exitCode !== 0)) return;
      process.exitCode = ExitCode.attention;
      out.note(`needs attention: ${reason} (exit ${ExitCode.attention}, --detailed-exitcode)`);
    },
    async target(flags, behaviour = {}) {
      const adHocFlags = await import('../inventory/ad-hoc-flags.js');
      adHocFlags.refuseAdHocFlagsWithoutLink(flags);
      const inv = await inventory();
      if (!globals.operator && inv.defaults?.operator && !process.env.PANELCTL_OPERATOR) ctx.operator = inv.defaults.operator;
      // --panel with --link (and no --driver): the inventory's panel, reached over another link this run.
      const overLink = flags.panel && flags.link && !flags.driver && !flags.secretFrom && inv.panels[flags.panel] ? flags.link : undefined;
      const adHoc = overLink ? {} : { link: flags.link, driver: flags.driver, secretFrom: flags.secretFrom, knownDrivers: environment.drivers.names };
      const target = await resolveTarget(flags.panel, adHoc, inv).catch(async (error) => {
        // With no inventory file at all, say which path was tried: the likeliest fix is the path.
        if (error instanceof PanelctlError && error.code === 'E_NO_PANEL' && !(await fileExists(inventoryPath))) {
          throw new PanelctlError(error.exitCode, error.code, `${error.message}: there is no inventory at ${inventoryPath} (${inventoryOrigin})`, {
            hint: 'name your inventory with --inventory FILE or PANELCTL_INVENTORY (README "Inventory"); without one, the demo panels work: --panel demo',
            data: { ...error.data, inventory: inventoryPath, origin: inventoryOrigin },
          });
        }
        throw error;
      });
      if (overLink) await useLinkOverride(target, overLink, out, ctx);
      cli.panelName = target.name;
      await adHocFlags.refuseUnusedCredential(target, flags.secretFrom, environment.drivers);
      if (flags.option?.length) {
        const [{ splitOptionPair }, { applyOptionFlags }] = await Promise.all([import('./target-options.js'), import('../inventory/option-flags.js')]);
        await applyOptionFlags(
          target,
          flags.option.map((pair) => splitOptionPair(pair, '--option')),
          environment.drivers,
        );
      }
      if (behaviour.leaseNote !== false) {
        if (await sharedStore(ctx.stateDir)) noteAtLock = target.name;
        else await noteLease(out, ctx.stateDir, target.name);
      }
      return target;
    },
  };
  return cli;
}

/** "users set-code": the words that name the command, without the program's name. */
function commandPath(command: Command): string {
  const words: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) words.unshift(c.name());
  return words.join(' ') || 'shell';
}

/**
 * A technician on site points an inventory panel at the cable in hand (`--panel oslo --link
 * serial:///dev/ttyUSB1`): driver, secrets and options stay the inventory's; the link is this run's,
 * said on stderr and recorded in every audit entry the run writes.
 */
async function useLinkOverride(target: Target, url: string, out: Output, ctx: OperationContext): Promise<void> {
  const { parseLink } = await import('../core/link.js');
  const link = parseLink(url, '--link');
  out.note(`${target.name}: using ${link.url} for this run instead of the inventory's ${target.link.url}`);
  ctx.auditDetails = { ...ctx.auditDetails, link: link.url, inventoryLink: target.link.url };
  target.link = link;
}

/** A panel on test is never out of sight: every command that touches it says so. */
async function noteLease(out: Output, dir: string, panel: string): Promise<void> {
  const { readLease } = await import('../state/leases.js');
  const lease = await readLease(dir, panel).catch((error) => {
    // The desk's leases cannot be read: say so rather than imply the panel is not on test.
    if (error instanceof PanelctlError && error.code === 'E_STATE_UNAVAILABLE')
      out.warn(`shared view missing: cannot tell whether ${panel} is on test: ${error.message}`);
    return undefined;
  });
  if (lease) await showLease(out, panel, lease);
}

async function showLease(out: Output, panel: string, lease: Lease): Promise<void> {
  const [{ isOverdue }, { localTime }] = await Promise.all([import('../state/leases.js'), import('../output/time.js')]);
  const by = `${lease.operator}${lease.host ? ` on ${lease.host}` : ''}${lease.ticket ? `, ticket ${lease.ticket}` : ''}`;
  if (isOverdue(lease)) {
    const why =
      lease.phase === 'stopping' ? `ending it was not confirmed${lease.problem ? ` (${lease.problem})` : ''}` : `its lease ended at ${localTime(lease.until)}`;
    out.warn(out.color.red.bold(`${panel} is still ON TEST: ${why} (${by}); run \`panelctl test-mode stop --panel ${panel}\``));
  } else {
    out.warn(`${panel} is ON TEST until ${localTime(lease.until)} (${by})`);
  }
}

function fileExists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

function safeUsername(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * One ora spinner on stderr for the whole command (loaded only on a terminal). Activities nest
 * ("connecting", then "talking to", then "reading the users"): the newest one's text shows, and
 * when it ends the one before it shows again; `update` changes an activity's text (progress).
 */
function spinnerActivities(stream: NodeJS.WriteStream): (text: string) => Activity {
  const stack: Array<{ text: string }> = [];
  let spinner: Ora | undefined;
  let loading: Promise<void> | undefined;
  const render = () => {
    const top = stack.at(-1);
    if (!top) {
      spinner?.stop();
      return;
    }
    if (spinner) {
      spinner.text = top.text;
      if (!spinner.isSpinning) spinner.start();
      return;
    }
    // discardStdin off: it puts the terminal in raw mode and, on a stdin never read before, never sees
    // the Ctrl-C byte, so Ctrl-C would do nothing. In cooked mode the terminal itself sends SIGINT.
    if (!loading)
      loading = import('ora').then(({ default: ora }) => {
        spinner = ora({ text: '', stream, discardStdin: false });
        render();
      });
  };
  return (text) => {
    const entry = { text };
    stack.push(entry);
    render();
    const stop: Activity = () => {
      const at = stack.indexOf(entry);
      if (at >= 0) stack.splice(at, 1);
      render();
    };
    stop.update = (next) => {
      entry.text = next;
      if (stack.at(-1) === entry) render();
    };
    return stop;
  };
}
