import * as z from 'zod';

/**
 * A Modbus panel's inventory `options` and the names of its `secrets` (none): checked when the inventory loads and
 * parsed by open() and describeFor() (parseDriverOptions in the kit). The profile itself is read and checked when a
 * command uses the panel (drivers/modbus/profile.ts).
 */
const PROFILE_RULE = 'the name of a shipped profile (e.g. demo-modbus) or the path of a YAML/JSON profile file';

export const optionsSchema = z
  .object({
    profile: z
      .string({ error: (issue) => (issue.input === undefined ? `is required: ${PROFILE_RULE}` : `must be ${PROFILE_RULE}`) })
      .trim()
      .min(1, `is required: ${PROFILE_RULE}`)
      .describe('the device profile: a shipped name (demo-modbus) or the path of a YAML/JSON profile'),
    unit: z
      .number({ error: 'must be a Modbus unit id 1..247 (0..255 on TCP)' })
      .int('must be a Modbus unit id 1..247 (0..255 on TCP)')
      .min(0, 'must be a Modbus unit id 1..247 (0..255 on TCP)')
      .max(255, 'must be a Modbus unit id 1..247 (0..255 on TCP)')
      .default(1)
      .describe('Modbus unit id (slave address)'),
    framing: z
      .enum(['mbap', 'rtu'], { error: 'must be mbap or rtu' })
      .optional()
      .describe('mbap (Modbus TCP, default on tcp://) or rtu (default on serial://; also RTU over TCP)'),
  })
  .strict();
export type ModbusOptions = z.infer<typeof optionsSchema>;

export const secretsSchema = z.object({}).strict();
