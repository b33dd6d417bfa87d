import type { Command } from 'commander';
import { ValidationError } from '../core/errors.js';
import { guessOptionValue } from '../inventory/option-text.js';

/**
 * The flags every panel command takes to say which panel. `inventoryOnly`: commands that need the
 * inventory's panel as it is (test mode: its station, account and lease) get no ad hoc flags.
 */
export function addTargetOptions(command: Command, options: { inventoryOnly?: boolean } = {}): Command {
  command.option('-p, --panel <name>', 'panel name from the inventory (or demo, demo-dsc, demo-modbus)');
  if (!options.inventoryOnly) {
    command
      .option(
        '--link <url>',
        "tcp://HOST:PORT, serial:///dev/ttyUSB0?baud=19200 or https://HOST: ad hoc with --driver, or with --panel over that panel's link for this run",
      )
      .option('--driver <name>', 'ad hoc: the driver for --link')
      .option('--secret-from <ref>', "ad hoc: where the driver's credential (a code, an API token) comes from: env:VAR, file:PATH or prompt");
  }
  return command.option(
    '--option <key=value>',
    "a driver option for this run, over the inventory's (e.g. profile=demo-modbus, codeLength=6); repeatable",
    collect,
    [],
  );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** KEY=VALUE from the command line, the value as typed: `--option` reads it as its option's type (applyOptionFlags). */
export function splitOptionPair(pair: string, flag: string): [string, string] {
  const at = pair.indexOf('=');
  const key = at > 0 ? pair.slice(0, at) : '';
  const value = at > 0 ? pair.slice(at + 1) : undefined;
  if (!key || value === undefined) throw new ValidationError(flag, 'must be KEY=VALUE, e.g. profile=demo-modbus');
  return [key, value];
}

/** KEY=VALUE with no schema to say the value's type (a simulator's `--set`): see guessOptionValue. */
export function parseOptionPair(pair: string, flag: string): [string, string | number | boolean] {
  const [key, value] = splitOptionPair(pair, flag);
  return [key, guessOptionValue(value)];
}

export function parsePartitions(text: string): number[] {
  return text.split(',').map((p) => Number(p.trim()));
}
