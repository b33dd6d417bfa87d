import type { DriverOptions, OpenOptions } from '../../src/driver-kit/index.js';
import { parseDriverOptions, UsageError, ValidationError } from '../../src/driver-kit/index.js';
import type { Module } from './keypad.js';
import { MAX_SLOT } from './messages.js';
import { type DscOptions, optionsSchema } from './options.js';

/**
 * One DSC panel's settings: its inventory options parsed by the schema in options.ts (every problem at once, exit 2,
 * before any contact), then the rules that need the master code or the link as well.
 */

export interface Settings {
  module: Module;
  codeLength: number;
  /** The highest slot: maxUsers, but never below 42 (duress, master and supervisor slots exist on every model). */
  highestSlot: number;
  allowMaster: boolean;
  /** Send a 4-digit code in the 200 padded with 00 to six digits (IT-100; README "Code padding"). */
  padCodes: boolean;
  /** false: an Envisalink without keypad text (README, "What the sources say"); writes go by slot, proven by panel-ack. */
  lcdText: boolean;
}

const HINTS: Record<string, string> = {
  lcdText: 'false for an Envisalink that sends no keypad text (see the dsc driver README); leave it out otherwise',
  module: 'envisalink (TCP, TPI login) or it100 (serial, or a serial-to-TCP converter)',
};

/** The options, parsed once per options object (describeFor and open share the result). */
export function dscOptions(options: DriverOptions): DscOptions {
  const parsed = parseDriverOptions(optionsSchema, options, HINTS);
  // The IT-100 is the module that sends the keypad text: saying otherwise is a mistake in the inventory.
  if (parsed.lcdText === false && parsed.module === 'it100') throw lcdTextOnIt100();
  return parsed;
}

function lcdTextOnIt100(): ValidationError {
  return new ValidationError('options.lcdText', 'applies to an Envisalink: an IT-100 always sends the keypad text (901); leave it out', {
    hint: HINTS.lcdText,
  });
}

export function settingsFor(options: OpenOptions): Settings {
  const o = dscOptions(options.options);
  const master = options.secrets.code;
  if (!master) throw new UsageError('DSC needs the master code (secret: in the inventory)', { code: 'E_SECRET_MISSING' });
  if (!/^\d{4}(\d{2})?$/.test(master.reveal())) throw new ValidationError('secret', 'the DSC master code must be 4 or 6 digits');
  const codeLength = o.codeLength ?? master.length;
  if (codeLength !== master.length) {
    throw new ValidationError(
      'options.codeLength',
      `is ${codeLength} but the master code has ${master.length} digits; a DSC panel uses one length for every code`,
    );
  }
  const module = o.module ?? (options.link.kind === 'tcp' ? 'envisalink' : 'it100');
  if (o.lcdText === false && module === 'it100') throw lcdTextOnIt100();
  return {
    module,
    codeLength,
    highestSlot: Math.max(o.maxUsers ?? MAX_SLOT, 42),
    allowMaster: o.allowMaster ?? false,
    padCodes: o.padCodes ?? module === 'it100',
    lcdText: o.lcdText ?? true,
  };
}
