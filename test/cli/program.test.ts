import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { REGISTRARS, buildProgram } from '../../src/cli/main.js';

/** No output: these programs are only looked at. */
const quiet = { stdout: { write: () => true }, stderr: { write: () => true } } as unknown as Pick<NodeJS.Process, 'stdout' | 'stderr'>;
const names = (program: Command) => program.commands.map((c) => c.name());

describe('the program built for one command line', () => {
  it("each registrar's names are the top-level commands it adds, and together they are the whole program", () => {
    for (const { names: declared, register } of REGISTRARS) {
      const program = new Command('panelctl');
      register(program);
      expect(names(program)).toEqual(declared);
    }
    expect(names(buildProgram(quiet))).toEqual(REGISTRARS.flatMap((r) => r.names));
  });

  it("holds only the named command's registrar, read past the program's own options and their values", () => {
    const of = (...args: string[]) => names(buildProgram(quiet, ['node', 'panelctl', ...args]));
    expect(of('users', 'list', '--panel', 'demo')).toEqual(['users']);
    expect(of('-o', 'json', '--no-color', '--ticket', 'users', 'info', '--panel', 'demo')).toEqual(['info', 'panels', 'drivers']);
    expect(of('--output=json', '-ojson', '-y', 'locks')).toEqual(['state', 'locks']);
  });

  it('is the whole program for help, the version, an unknown or misspelt command, an unknown flag, or none', () => {
    const whole = names(buildProgram(quiet));
    const of = (...args: string[]) => names(buildProgram(quiet, ['node', 'panelctl', ...args]));
    for (const args of [
      [],
      ['--help', 'users'],
      ['-h'],
      ['-V', 'users'],
      ['--version'],
      ['usres', 'list'],
      ['help', 'users'],
      ['--what', 'users'],
      ['--', 'users'],
    ]) {
      expect(of(...args)).toEqual(whole);
    }
  });
});
