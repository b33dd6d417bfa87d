import os from 'node:os';
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { Output, colorWanted, type OutputFormat } from '../output/output.js';
import type { OperationContext } from '../operations/context.js';
import { defaultInventoryPath, stateDir } from '../state/paths.js';
import type { InventoryFile } from '../inventory/schema.js';
import { resolveTarget, type Target } from '../inventory/targets.js';
import { askSecret, isInteractive } from './prompts.js';

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
}

/** Everything a command needs, built from the global flags. */
export interface Cli {
  out: Output;
  ctx: OperationContext;
  globals: GlobalOptions;
  interactive: boolean;
  inventory(): Promise<InventoryFile>;
  /** Hands Ctrl-C back to the command (set while an interrupt guard is active; see interrupt.ts). */
  releaseInterrupts?: () => void;
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

/** "30s", "1500ms", "2m" or a bare number of milliseconds. */
export function parseDuration(text: string, field: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${field}: must be a duration like 30s, 1500ms, 45m or 2h`, { code: 'E_INVALID' });
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 'ms') as 'ms'];
  const value = Math.round(Number(match[1]) * unit);
  if (value <= 0) throw new UsageError(`${field}: must be more than zero`, { code: 'E_INVALID' });
  return value;
}

export function buildCli(command: Command): Cli {
  const globals = command.optsWithGlobals() as GlobalOptions;
  const format = globals.output as OutputFormat;
  if (!['table', 'json', 'ndjson'].includes(format)) throw new UsageError('-o/--output: must be table, json or ndjson', { code: 'E_INVALID' });
  const interactive = isInteractive();
  const out = new Output({ format, color: colorWanted(globals.color), interactive: interactive && format === 'table' });
  let inventoryCache: Promise<InventoryFile> | undefined;
  const inventoryPath = globals.inventory ?? defaultInventoryPath();
  // Loaded on first use: the schema and YAML libraries cost ~150 ms that status or audit never need.
  const inventory = () =>
    (inventoryCache ??= import('../inventory/load.js').then(({ loadInventory }) => loadInventory(inventoryPath, Boolean(globals.inventory || process.env.PANELCTL_INVENTORY))));

  const ctx: OperationContext = {
    operator: globals.operator ?? process.env.PANELCTL_OPERATOR ?? safeUsername(),
    ticket: globals.ticket ?? process.env.PANELCTL_TICKET,
    stateDir: stateDir(),
    timeoutMs: globals.timeout ? parseDuration(globals.timeout, '--timeout') : 5000,
    promptSecret: interactive ? (label) => askSecret(label) : undefined,
    activity: out.interactive ? spinner : undefined,
    // Traces can quote what a panel sent (LCD text): printable, like every other line (src/output/printable.ts).
    trace: globals.debug ? (direction, text) => process.stderr.write(`${out.printable(out.color.dim(`[${direction}] ${text}`))}\n`) : undefined,
    command: commandPath(command),
  };
  return {
    out,
    ctx,
    globals,
    interactive,
    inventory,
    async target(flags, behaviour = {}) {
      const inv = await inventory();
      if (!globals.operator && inv.defaults?.operator && !process.env.PANELCTL_OPERATOR) ctx.operator = inv.defaults.operator;
      const target = await resolveTarget(flags.panel, { link: flags.link, driver: flags.driver, secretFrom: flags.secretFrom }, inv);
      if (flags.option?.length) {
        const { parseOptionPair } = await import('./target-options.js');
        target.options = { ...target.options, ...Object.fromEntries(flags.option.map((pair) => parseOptionPair(pair, '--option'))) };
      }
      if (behaviour.leaseNote !== false) await noteLease(out, ctx.stateDir, target.name);
      return target;
    },
  };
}

/** "users set-code": the words that name the command, without the program's name. */
function commandPath(command: Command): string {
  const words: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) words.unshift(c.name());
  return words.join(' ') || 'shell';
}

/** A panel on test is never out of sight: every command that touches it says so. */
async function noteLease(out: Output, dir: string, panel: string): Promise<void> {
  const [{ readLease, isOverdue }, { localTime }] = await Promise.all([import('../state/leases.js'), import('../output/time.js')]);
  const lease = await readLease(dir, panel).catch(() => undefined);
  if (!lease) return;
  const by = `${lease.operator}${lease.ticket ? `, ticket ${lease.ticket}` : ''}`;
  if (isOverdue(lease)) {
    const why = lease.phase === 'stopping' ? `ending it was not confirmed${lease.problem ? ` (${lease.problem})` : ''}` : `its lease ended at ${localTime(lease.until)}`;
    out.warn(out.color.red.bold(`${panel} is still ON TEST: ${why} (${by}); run \`panelctl test-mode stop --panel ${panel}\``));
  } else {
    out.warn(`${panel} is ON TEST until ${localTime(lease.until)} (${by})`);
  }
}

function safeUsername(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** An ora spinner on stderr; loaded only on a terminal. */
function spinner(text: string): () => void {
  let stop: (() => void) | undefined;
  let cancelled = false;
  void import('ora').then(({ default: ora }) => {
    if (cancelled) return;
    // discardStdin off: it puts the terminal in raw mode and, on a stdin never read before, never sees
    // the Ctrl-C byte, so Ctrl-C would do nothing. In cooked mode the terminal itself sends SIGINT.
    const s = ora({ text, stream: process.stderr, discardStdin: false }).start();
    stop = () => s.stop();
  });
  return () => {
    cancelled = true;
    stop?.();
  };
}
