import * as z from 'zod';
import { MIN_REQUEST_INTERVAL_MS, OVERLOAD_BACKOFF_MS } from './limits.js';
import { isAreaPath } from './paths.js';
import { USER_TYPES } from './schemas.js';

/**
 * A map5000 panel's inventory `options` and `secrets`, checked when the inventory loads (every
 * problem at once, with the field named) and parsed by open() (parseDriverOptions in the kit). The REST-API credential is a user of the panel with REST
 * rights: its oiiUsername (an option: not secret) and oiiPassword (a secret).
 */

/** oiiUsername: "at least 8, but no more than 32 characters ... ASCII code 33, [35, 126]" (docs/UserModelPost.md). */
const restUser = z
  .string()
  .min(8, 'must be at least 8 characters (the MAP REST-API user name rule)')
  .max(32, 'must be at most 32 characters (the MAP REST-API user name rule)')
  .regex(/^[\x21\x23-\x7e]+$/, 'must be printable ASCII without spaces or double quotes (the MAP REST-API user name rule)');

const LANGUAGES = [
  'en-US',
  'de-DE',
  'fr-FR',
  'nl-NL',
  'hu-HU',
  'pl-PL',
  'it-IT',
  'ru-RU',
  'es-ES',
  'cs-CZ',
  'pt-PT',
  'lv-LV',
  'ro-RO',
  'lt-LT',
  'uk-UK',
] as const;

export const optionsSchema = z
  .object({
    user: restUser.describe('REST-API user name (oiiUsername) panelctl logs in as, 8-32 characters'),
    accessModel: z.string().min(1).max(64).default('Basic Profile').describe('access model given to created users: the name of one that exists on the panel'),
    userType: z
      .enum(USER_TYPES)
      .default('User:Standard')
      .describe(`type of created users: ${USER_TYPES.join(', ')}`),
    language: z.enum(LANGUAGES).optional().describe("keypad language of created users, e.g. en-US (the panel's default when absent)"),
    areas: z
      .string()
      .refine((text) => text.split(',').every((area) => isAreaPath(area.trim())), 'must be area links like /1.1.Area.2.1, separated by commas')
      .optional()
      .describe('walk test areas, comma-separated links like /1.1.Area.2.1 (default: all)'),
    // Never below 1000 against a real panel (README); simulators may allow less.
    requestIntervalMs: z
      .number()
      .int()
      .min(50)
      .max(60_000)
      .default(MIN_REQUEST_INTERVAL_MS)
      .describe("least time between an answer and the next request, the panel's rule"),
    // The description asks for 60 s.
    overloadBackoffMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(OVERLOAD_BACKOFF_MS)
      .describe("wait after a 503 (overload) before retrying, the panel's rule"),
  })
  .strict();
export type MapOptions = z.infer<typeof optionsSchema>;

export const secretsSchema = z.object({ password: z.string().min(1).max(64) }).strict();

export const SECRETS = [{ name: 'password', label: 'REST-API password (oiiPassword)', required: true }];
