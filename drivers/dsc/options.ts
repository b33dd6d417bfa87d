import * as z from 'zod';
import { MAX_SLOT } from './messages.js';

/**
 * A DSC panel's inventory `options` and the names of its `secrets`: checked when the inventory loads (every problem at
 * once, with a did-you-mean) and parsed by open() and describeFor() (parseDriverOptions in the kit).
 */
/** YAML gives true/false; `--option key=value` gives text: both are taken, as the driver always did. */
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((text) => text === 'true')], { error: 'must be true or false' });

export const optionsSchema = z
  .object({
    /** 4 or 6: the code length the panel is set to (default: the master code's length). */
    codeLength: z.union([z.literal(4), z.literal(6)], { error: 'must be 4 or 6' }).optional(),
    /** The highest user slot: 32 (PC1616), 48..72 (PC1832), 95 (PC1864, the default). */
    maxUsers: z
      .number({ error: `must be a whole number from 1 to ${MAX_SLOT}` })
      .int(`must be a whole number from 1 to ${MAX_SLOT}`)
      .min(1, `must be a whole number from 1 to ${MAX_SLOT}`)
      .max(MAX_SLOT, `must be a whole number from 1 to ${MAX_SLOT}`)
      .optional(),
    /** true lets set-code change the master code in slot 40. */
    allowMaster: flag.optional(),
    /** true pads a 4-digit code with 00 to six digits (the IT-100 default; README "Code padding"). */
    padCodes: flag.optional(),
    /**
     * false: an Envisalink that sends no keypad text (901), which is what the public sources show (README, "What the
     * sources say"): codes are written by slot through keys, proven by the acknowledgements and the Program LED only.
     */
    lcdText: flag.optional(),
    /** envisalink or it100 (default: envisalink on tcp://, it100 on serial). */
    module: z.enum(['envisalink', 'it100'], { error: 'must be envisalink or it100' }).optional(),
  })
  .strict();
export type DscOptions = z.infer<typeof optionsSchema>;

/** The master code is the credential (`secret:`); the TPI password and the installer code are named. */
export const secretsSchema = z.object({ code: z.string(), tpiPassword: z.string(), installer: z.string() }).partial().strict();
