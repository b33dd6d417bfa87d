import type { Command } from 'commander';
import type { Cli } from './context.js';
import { environmentOf } from './environment.js';

/** What a command runs: the Cli, then the command's positional arguments, then its flags (commander's order). */
export type Runner<A extends unknown[]> = (cli: Cli, ...args: A) => Promise<void>;

export interface LazyOptions {
  /** Panel commands: Ctrl-C aborts the operation cleanly instead of killing the process mid-frame. */
  interruptible?: boolean;
}

/**
 * A commander action that loads its runner (and buildCli, with the inventory schema, YAML and colour
 * libraries) only when that command runs, so --help and --version stay fast. `load` resolves to the
 * runner itself, so its name and its parameters are checked by the compiler at the call site.
 */
export function lazyAction<A extends unknown[]>(load: () => Promise<Runner<A>>, options: LazyOptions = {}) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    const environment = environmentOf(command);
    const [runner, runtime, drivers] = await Promise.all([load(), import('./command-runtime.js'), environment.drivers()]);
    const cli = await runtime.buildCli(command, { drivers, io: environment.io });
    const guard = options.interruptible ? runtime.guardInterrupts(cli, command.name()) : undefined;
    try {
      // Commander hands over its parsed arguments untyped: the command's own .argument()/.option() calls
      // define them, and the runner's parameter types state the same shape.
      await runner(cli, ...(args.slice(0, -1) as A));
    } catch (error) {
      throw guard ? guard.explain(error) : error;
    } finally {
      guard?.release();
      // Connections to a shared state store would keep the process alive.
      await runtime.closeSharedStores();
    }
  };
}

/**
 * The lazy actions of one actions module: `const run = lazyActions(() => import('../actions/users.js'))`,
 * then `.action(run((m) => m.runAdd))`. The module is imported when a command runs, never at start-up.
 */
export function lazyActions<M>(load: () => Promise<M>, defaults: LazyOptions = {}) {
  return <A extends unknown[]>(pick: (module: M) => Runner<A>, options: LazyOptions = {}) => lazyAction(() => load().then(pick), { ...defaults, ...options });
}
