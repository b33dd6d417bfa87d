import * as z from 'zod';
import { DELETE_KEYS, type DeleteKeys, FIRST_USER, MAX_USER } from './keys.js';

/**
 * A vista panel's inventory `options` and `secrets`, checked when the inventory loads and parsed
 * by open() and describeFor() (parseDriverOptions in the kit), before anything is sent. Values may arrive as YAML numbers and booleans or, from
 * `--option key=value`, as text: both are taken. README "Inventory" says what each one means.
 */

const whole = (min: number, max: number) =>
  z.coerce.number().int(`must be a whole number from ${min} to ${max}`).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((text) => text === 'true')], { error: 'must be true or false' });

export const optionsSchema = z
  .object({
    maxUser: whole(FIRST_USER, MAX_USER).default(MAX_USER).describe('the highest user number of this panel: 49 (VISTA-20P), 33 (VISTA-15P), 17 (VISTA-10P)'),
    // README "Where the sources disagree".
    deleteKeys: z
      .enum(DELETE_KEYS as [DeleteKeys, ...DeleteKeys[]], { error: `must be one of ${DELETE_KEYS.join(', ')}` })
      .default('#0')
      .describe('how a delete ends: #0, 0# or wait (older panels: stop after the user number)'),
    walkPrompt: flag.default(true).describe('true: the panel asks "1 = DIAL, 0 = WALK" after code + TEST, and 0 is pressed; false: it does not'),
    keyIntervalMs: whole(0, 1500).default(150).describe('pause between keys; the panel drops an entry after 2-3 s of quiet'),
    keyTimeoutMs: whole(0, 10_000).default(3000).describe('how long the panel keeps a half-typed entry: an interrupted sequence is waited out this long'),
    ackTimeoutMs: whole(100, 60_000).default(5000).describe('how long to wait for the confirmation beep after the last key'),
    address: whole(0, 31).default(18).describe("the AlarmDecoder's keypad address"),
    allowMaster: flag.default(false).describe('true to let set-code change the master code (user 02)'),
  })
  .strict();
export type VistaOptions = z.infer<typeof optionsSchema>;

/** The one credential: the master code (user 02), 4 digits. */
export const secretsSchema = z.object({ code: z.string().regex(/^\d{4}$/, 'must be the 4-digit master code (user 02)') }).strict();
