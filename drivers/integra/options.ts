import * as z from 'zod';

/**
 * An INTEGRA panel's inventory `options` and the names of its `secrets`: checked when the inventory loads and parsed
 * by open() (parseDriverOptions in the kit).
 */
export const optionsSchema = z
  .object({
    prefix: z
      .union([z.string().regex(/^\d*$/, 'must be digits'), z.number().int().nonnegative()], { error: 'must be digits' })
      .transform(String)
      .optional()
      .describe('code prefix digits, when the panel uses code prefixes (sent as prefix + code in the 8-byte code field)'),
  })
  .strict();
export type IntegraOptions = z.infer<typeof optionsSchema>;

/** The user code is the credential (`secret:`); the ETHM-1 Plus integration key is named. */
export const secretsSchema = z.object({ code: z.string(), integrationKey: z.string() }).partial().strict();
