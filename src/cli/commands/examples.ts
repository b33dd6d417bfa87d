import type { Command } from 'commander';

/** Adds an "Examples:" block to a command's help: every command shows at least one way to run it. */
export function withExamples<T extends Command>(command: T, ...lines: string[]): T {
  command.addHelpText('after', `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}`);
  return command;
}
