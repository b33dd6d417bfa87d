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
    /** The REST-API user (oiiUsername) panelctl logs in as. */
    user: restUser,
    /** Access model given to users panelctl creates: the name of one that exists on the panel. */
    accessModel: z.string().min(1).max(64).default('Basic Profile'),
    /** userType of users panelctl creates. */
    userType: z.enum(USER_TYPES).default('User:Standard'),
    /** Keypad language of users panelctl creates; the panel's default when absent. */
    language: z.enum(LANGUAGES).optional(),
    /** Areas a walk test covers, comma-separated SIID links ("/1.1.Area.2.1,/1.1.Area.2.2"); all areas when absent. */
    areas: z
      .string()
      .refine((text) => text.split(',').every((area) => isAreaPath(area.trim())), 'must be area links like /1.1.Area.2.1, separated by commas')
      .optional(),
    /** Least time between an answer and the next request. Never below 1000 against a real panel (README); simulators may allow less. */
    requestIntervalMs: z.number().int().min(50).max(60_000).default(MIN_REQUEST_INTERVAL_MS),
    /** Wait after an overload answer (503) before the retry; the description asks for 60 s. */
    overloadBackoffMs: z.number().int().min(0).max(600_000).default(OVERLOAD_BACKOFF_MS),
  })
  .strict();
export type MapOptions = z.infer<typeof optionsSchema>;

export const secretsSchema = z.object({ password: z.string().min(1).max(64) }).strict();

export const SECRETS = [{ name: 'password', label: 'REST-API password (oiiPassword)', required: true }];

export const OPTION_HELP = [
  { name: 'user', description: 'REST-API user name (oiiUsername) panelctl logs in as, 8-32 characters', required: true },
  { name: 'accessModel', description: 'access model given to created users (default "Basic Profile")' },
  { name: 'userType', description: `type of created users: ${USER_TYPES.join(', ')} (default User:Standard)` },
  { name: 'language', description: 'keypad language of created users, e.g. en-US' },
  { name: 'areas', description: 'walk test areas, comma-separated links like /1.1.Area.2.1 (default: all)' },
  { name: 'requestIntervalMs', description: 'least time between an answer and the next request (default 1000, the panel rule)' },
  { name: 'overloadBackoffMs', description: 'wait after a 503 before retrying (default 60000, the panel rule)' },
];
