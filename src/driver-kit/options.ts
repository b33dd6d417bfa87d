import type * as z from 'zod';
import type { DriverSchemas } from '../core/contract.js';
import { ValidationError } from '../core/errors.js';
import { editDistance, typoBudget } from '../inventory/fuzzy.js';
import { PLAIN_NUMBER } from '../inventory/option-text.js';

/**
 * Typed driver options (issue 15 item 3). Each driver declares zod schemas for its inventory `options` and the names
 * of its `secrets` (drivers/<name>/options.ts); the inventory loader checks every panel with them, and the driver's
 * open() and describeFor() take the parsed result from parseDriverOptions, never the raw bag. This module only
 * holds zod's types: zod itself is loaded by the drivers' schema modules, when a driver or the inventory needs them.
 */

/**
 * Options any panel takes, whatever its driver: the operations read them (src/operations/user-steps.ts). A driver
 * that declares one of these names itself (DSC's codeLength: 4 or 6) checks it with its own, narrower rule.
 */
export const COMMON_OPTIONS: Record<string, { type: 'boolean' | 'number'; rule: string; description: string }> = {
  duressPlusOne: { type: 'boolean', rule: 'must be true or false', description: 'true when the panel reads a code one away from a user code as duress' },
  codeLength: { type: 'number', rule: 'must be a whole number of digits', description: 'the one code length this panel is set to' },
};

export interface OptionProblem {
  /** "options.maxUsers", "secrets.tpiPasword". */
  field: string;
  rule: string;
}

function keysOf(schema: z.ZodType | undefined): string[] {
  const shape = (schema as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

/** "did you mean maxUsers?": the nearest known name within the typo budget, ignoring case. */
export function nearestName(typed: string, known: readonly string[]): string | undefined {
  const word = typed.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(word, name.toLowerCase());
    if (distance <= Math.max(1, typoBudget(word)) && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function unknownRule(noun: string, key: string, known: readonly string[]): string {
  const near = nearestName(key, known);
  if (near) return `unknown ${noun}; did you mean ${near}?`;
  return known.length ? `unknown ${noun} (known: ${known.join(', ')})` : `unknown ${noun} (this driver takes none)`;
}

/** A zod issue in the words of the rest of panelctl: "is required", "must be a number", or the schema's own message. */
function ruleOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return 'is required';
  if (issue.code === 'invalid_type' && /^Invalid input/.test(issue.message))
    return `must be ${issue.expected === 'number' ? 'a number' : issue.expected === 'boolean' ? 'true or false' : issue.expected === 'string' ? 'text' : `a ${issue.expected}`}`;
  return issue.message;
}

/**
 * Every problem with one panel's options (and, given `secretRefs`, the names of its secrets), at once: unknown names
 * with a did-you-mean, wrong types, values out of range. Empty when all is well; `value` is then the parsed options.
 */
export function checkDriverOptions(
  schemas: DriverSchemas,
  options: Record<string, unknown>,
  secretRefs?: Record<string, unknown>,
  /** The inventory's unnamed `secret:` is set: the driver's first secret, so a driver that takes none refuses it. */
  credentialGiven = false,
): { problems: OptionProblem[]; value?: Record<string, unknown> } {
  const problems: OptionProblem[] = [];
  const own: Record<string, unknown> = {};
  const common: Record<string, unknown> = {};
  const declared = keysOf(schemas.optionsSchema);
  for (const [key, value] of Object.entries(options)) {
    if (Object.hasOwn(COMMON_OPTIONS, key) && !declared.includes(key)) common[key] = value;
    else own[key] = value;
  }
  for (const [key, value] of Object.entries(common)) {
    const rule = COMMON_OPTIONS[key];
    const wrong = typeof value !== rule.type || (rule.type === 'number' && !(Number.isInteger(value) && (value as number) > 0));
    if (value !== undefined && wrong) problems.push({ field: `options.${key}`, rule: rule.rule });
  }
  const known = [...new Set([...declared, ...Object.keys(COMMON_OPTIONS)])];
  const parsed = schemas.optionsSchema.safeParse(own);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) problems.push({ field: `options.${key}`, rule: unknownRule('option', key, known) });
      } else {
        problems.push({ field: ['options', ...issue.path.map(String)].join('.'), rule: ruleOf(issue) });
      }
    }
  }
  if (secretRefs && schemas.secretsSchema) {
    const names = keysOf(schemas.secretsSchema);
    for (const key of Object.keys(secretRefs)) if (!names.includes(key)) problems.push({ field: `secrets.${key}`, rule: unknownRule('secret', key, names) });
    if (credentialGiven && names.length === 0) problems.push({ field: 'secret', rule: 'this driver takes no credential' });
  }
  return problems.length ? { problems } : { problems, value: { ...(parsed.data as Record<string, unknown>), ...common } };
}

/** What a value typed as text can be read as, for one option. */
type ValueKind = 'number' | 'boolean' | 'text';

/** zod's internal definition (zod 4: `schema._zod.def`): the wrappers are unwrapped to the types they hold. */
interface ZodDef {
  type: string;
  innerType?: { _zod: { def: ZodDef } };
  in?: { _zod: { def: ZodDef } };
  options?: Array<{ _zod: { def: ZodDef } }>;
  values?: unknown[];
  entries?: Record<string, unknown>;
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

/** The kinds of value a schema accepts: a union of literals 4 | 6 takes numbers, an enum of names takes text. */
function kindsOf(def: ZodDef, into: Set<ValueKind>): Set<ValueKind> {
  if (WRAPPERS.has(def.type) && def.innerType) return kindsOf(def.innerType._zod.def, into);
  if (def.type === 'pipe' && def.in) return kindsOf(def.in._zod.def, into);
  if (def.type === 'union') for (const option of def.options ?? []) kindsOf(option._zod.def, into);
  if (def.type === 'number' || def.type === 'int' || def.type === 'bigint') into.add('number');
  if (def.type === 'boolean') into.add('boolean');
  if (def.type === 'string' || def.type === 'template_literal') into.add('text');
  for (const value of [...(def.values ?? []), ...Object.values(def.entries ?? {})]) {
    into.add(typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'text');
  }
  return into;
}

/**
 * An option's value typed on the command line (`--option user=01234567`), read as the type the driver's schema
 * expects for that option, not guessed from its characters: digits for a text option stay text, leading zeros kept;
 * `true`/`false` become booleans and plain numbers numbers only where the option takes one. Anything else stays
 * text, so a word for a number option is refused by the schema's own rule ("must be a number").
 */
export function readOptionText(schemas: DriverSchemas, key: string, text: string): string | number | boolean {
  const field = (schemas.optionsSchema as { shape?: Record<string, { _zod: { def: ZodDef } }> }).shape?.[key];
  const kinds = field ? kindsOf(field._zod.def, new Set()) : new Set<ValueKind>();
  if (!field && Object.hasOwn(COMMON_OPTIONS, key)) kinds.add(COMMON_OPTIONS[key].type);
  if (kinds.has('boolean') && (text === 'true' || text === 'false')) return text === 'true';
  if (kinds.has('number') && PLAIN_NUMBER.test(text)) return Number(text);
  return text;
}

const parsedCache = new WeakMap<z.ZodType, WeakMap<object, unknown>>();

/**
 * A driver's options, parsed by its schema: what open() and describeFor() work from. Parsed once per options object
 * (the two calls of one command share the result). Bad options are exit 2, every problem listed, before any contact.
 */
export function parseDriverOptions<T>(
  schema: z.ZodType<T>,
  options: Readonly<Record<string, unknown>>,
  /** How to fix a field, by option name (shown when that field is the first problem). */
  hints: Record<string, string> = {},
): T & Record<string, unknown> {
  const cache = parsedCache.get(schema) ?? new WeakMap<object, unknown>();
  parsedCache.set(schema, cache);
  const hit = cache.get(options);
  if (hit) return hit as T & Record<string, unknown>;
  const { problems, value } = checkDriverOptions({ optionsSchema: schema }, options);
  if (!value) {
    const listed = problems.slice(0, 20).map((p) => `  - ${p.field}: ${p.rule}`);
    throw new ValidationError(problems[0].field, problems[0].rule, {
      hint: problems.length > 1 ? `${problems.length} problems:\n${listed.join('\n')}` : hints[problems[0].field.replace(/^options\./, '')],
      data: { problems },
    });
  }
  cache.set(options, value);
  return value as T & Record<string, unknown>;
}

/**
 * DriverInfo.options (what `panelctl drivers -o json` shows) read from the schema, so names, descriptions and defaults
 * are said once: each option's `.describe()` text, its default when the schema has one, and whether it must be given.
 */
export function optionHelpOf(schema: z.ZodType): Array<{ name: string; description: string; required?: boolean }> {
  const shape = (schema as { shape?: Record<string, z.ZodType> }).shape ?? {};
  return Object.entries(shape).map(([name, field]) => {
    const absent = field.safeParse(undefined);
    const fallback = absent.success && absent.data !== undefined ? ` (default ${JSON.stringify(absent.data)})` : '';
    return { name, description: `${field.description ?? name}${fallback}`, ...(absent.success ? {} : { required: true }) };
  });
}
