import type { Command } from 'commander';
import type { Cli } from './context.js';

type Runner = (cli: Cli, ...args: any[]) => Promise<void>;

/**
 * A commander action that loads its implementation (and buildCli, with the inventory schema,
 * YAML and colour libraries) only when that command runs, so --help and --version stay fast.
 * The runner receives the Cli, then the command's positional arguments, then its flags.
 */
export function lazyAction(load: () => Promise<Record<string, unknown>>, name: string) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const [module, { buildCli }] = await Promise.all([load(), import('./context.js')]);
    const runner = module[name] as Runner;
    await runner(buildCli(command), ...args.slice(0, -1));
  };
}
