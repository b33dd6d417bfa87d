import type { Command } from 'commander';
import type { DriverRegistry } from '../core/contract.js';

/** The streams a run reads and writes: the process's, or a test's (GitHub CLI's IOStreams idea). */
export interface CliIO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/**
 * What the composition root (main.ts `run`) hands every command: the driver registry, loaded
 * only when a command needs it (so --help loads no driver list), and the streams.
 */
export interface CliEnvironment {
  drivers(): Promise<DriverRegistry>;
  io: CliIO;
}

const environments = new WeakMap<Command, CliEnvironment>();

/** Binds an environment to a program: its commands find it through their root (no global state). */
export function bindEnvironment(program: Command, environment: CliEnvironment): void {
  environments.set(program, environment);
}

export function environmentOf(command: Command): CliEnvironment {
  let root = command;
  while (root.parent) root = root.parent;
  const found = environments.get(root);
  if (!found) throw new Error('the command was built without an environment (bindEnvironment in main.ts)');
  return found;
}
