import type { Command } from 'commander';
import type { Cli } from './context.js';

type Runner = (cli: Cli, ...args: any[]) => Promise<void>;

/**
 * A commander action that loads its implementation (and buildCli, with the inventory schema,
 * YAML and colour libraries) only when that command runs, so --help and --version stay fast.
 * The runner receives the Cli, then the command's positional arguments, then its flags.
 */
export function lazyAction(load: () => Promise<Record<string, unknown>>, name: string, options: { interruptible?: boolean } = {}) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const [module, { buildCli }] = await Promise.all([load(), import('./context.js')]);
    const runner = module[name] as Runner;
    const cli = buildCli(command);
    // Panel commands: Ctrl-C aborts the operation cleanly instead of killing the process mid-frame.
    const guard = options.interruptible ? (await import('./interrupt.js')).guardInterrupts(cli, command.name()) : undefined;
    try {
      await runner(cli, ...args.slice(0, -1));
    } catch (error) {
      throw guard ? guard.explain(error) : error;
    } finally {
      guard?.release();
      // Connections to a shared state store would keep the process alive.
      await (await import('../state/store.js')).closeSharedStores();
    }
  };
}
