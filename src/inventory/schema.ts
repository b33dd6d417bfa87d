import * as z from 'zod';
import { parseLink, tlsProblems } from '../core/link.js';
import { checkWebhookUrl } from '../station/url.js';
import { refuseCredentialsInStationEnv } from '../station/env-check.js';
import { PANEL_NAME, PANEL_NAME_RULE } from './panel-name.js';

/** A secret reference: where to read a secret from. The inventory never holds a secret itself. */
export const secretRefSchema = z
  .string()
  .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+|prompt)$/, 'must be env:VARIABLE, file:PATH or prompt (a secret is never written in the inventory)');

/** Panel names (panel-name.ts, which needs no zod): re-exported for the code that takes them from here. */
export { PANEL_NAME, PANEL_NAME_RULE };

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Where a panel's test-mode notices go (README "Monitoring stations"). */
const buildStationSchema = () =>
  z.discriminatedUnion('type', [
    z
      .object({
        type: z.literal('webhook'),
        url: z.string(),
        secret: secretRefSchema.describe('HMAC key'),
        timeoutMs: z.number().int().positive().optional(),
        /** Allows http:// to a host other than this machine (notices then travel unencrypted). */
        insecure: z.boolean().optional(),
      })
      .superRefine((station, ctx) => {
        const problem = checkWebhookUrl(station.url, station.insecure);
        if (problem) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
      }),
    z.object({
      type: z.literal('command'),
      command: z.array(z.string()).min(1, 'must name the program to run'),
      timeoutMs: z.number().int().positive().optional(),
      /** Variables passed on to the program besides PATH, HOME, LANG and TZ (its environment is otherwise empty). */
      env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be environment variable names')).optional(),
    }),
    z.object({ type: z.literal('manual') }),
    z.object({ type: z.literal('none') }),
  ]);
export type StationConfig = z.infer<ReturnType<typeof buildStationSchema>>;

/**
 * A station, checked by schemas built when an inventory first has one to check: most inventories name none, and
 * building the four kinds took ~3 ms of CPU on every command with an inventory (issue 20). Not z.lazy: zod asks a
 * union's options whether they are optional while it checks the object that holds it, which builds them. The
 * issues are the built schema's own (field and rule), at the same paths; the value is its output, as before.
 */
const built: { station?: z.ZodType<StationConfig>; stationOrName?: z.ZodType<string | StationConfig> } = {};
function stationChecked<T>(schema: () => z.ZodType<T>) {
  return z.unknown().transform((value, ctx): T => {
    const result = schema().safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  });
}
const stationSchema = stationChecked(() => {
  built.station ??= buildStationSchema();
  return built.station;
});
/** A station written out, or the name of one in `stations:`. */
const stationOrName = stationChecked(() => {
  built.stationOrName ??= z.union([z.string(), buildStationSchema()]);
  return built.stationOrName;
});

export const panelSchema = z
  .object({
    // Which names exist is the driver registry's to say: checked by parseInventory (load.ts) with the registry's names.
    driver: z.string(),
    link: z.string().superRefine((value, ctx) => {
      try {
        parseLink(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^link: /, '') });
      }
    }),
    /** The credential used to authorise changes (INTEGRA user code, DSC master code). */
    secret: secretRefSchema.optional(),
    /** Further named secrets a driver needs (tpiPassword, installer, integrationKey). */
    secrets: z.record(z.string(), secretRefSchema).optional(),
    options: z.record(z.string(), scalar).optional(),
    tags: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).optional(),
    /** The account number the monitoring station knows this panel by. */
    account: z.string().optional(),
    customer: z.string().optional(),
    description: z.string().optional(),
    station: stationOrName.optional(),
    timeoutMs: z.number().int().positive().optional(),
    /** How an https:// panel's certificate is trusted (README "HTTPS panels"): CA file, pinned fingerprint, client certificate. */
    tls: z
      .object({
        ca: z.string().min(1).optional(),
        fingerprint: z.string().optional(),
        clientCert: z.string().min(1).optional(),
        clientKey: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((panel, ctx) => {
    if (!panel.tls) return;
    let link: ReturnType<typeof parseLink>;
    try {
      link = parseLink(panel.link);
    } catch {
      return; // the link's own problem is reported on its field
    }
    for (const [field, message] of tlsProblems(link, panel.tls)) ctx.addIssue({ code: 'custom', path: field.split('.'), message });
  });

export const inventorySchema = z
  .object({
    defaults: z
      .object({
        operator: z.string().optional(),
        timeoutMs: z.number().int().positive().optional(),
        station: stationOrName.optional(),
      })
      .strict()
      .optional(),
    stations: z.record(z.string(), stationSchema).optional(),
    /** Where the desk's shared state lives (README "Team setup"): files (the default) or postgres://... */
    state: z
      .string()
      .regex(/^(files|postgres(ql)?:\/\/.+)$/, 'must be files or a postgres://user@host/database URL (the password from PGPASSWORD or ~/.pgpass)')
      .optional(),
    panels: z.record(z.string().regex(PANEL_NAME, PANEL_NAME_RULE), panelSchema),
  })
  .strict()
  .superRefine(refuseCredentialsInStationEnv);

export type PanelConfig = z.infer<typeof panelSchema>;
export type InventoryFile = z.infer<typeof inventorySchema>;
