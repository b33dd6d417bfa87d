import yaml from 'js-yaml';
import type { z } from 'zod';
import { UsageError, ValidationError } from '../core/errors.js';
import { MiB, readTextBounded } from '../core/bounded-read.js';
import { inventorySchema, type InventoryFile } from './schema.js';
import type { DriverRegistry, DriverSchemas } from '../core/contract.js';
import { checkDriverOptions } from '../driver-kit/options.js';
import { digitsAsText } from './digits-as-text.js';

/**
 * Limits (README "Limits"): an inventory larger than this is refused before it is parsed, and
 * one with more panels after. Parsing is linear in the file's size (see `readYaml`): 100,000
 * panels take about a second.
 */
export const INVENTORY_MAX_BYTES = 32 * MiB;
export const INVENTORY_MAX_PANELS = 100_000;

/** Turns a zod issue path into the words a user needs: which panel, which field. */
function describeIssue(issue: z.core.$ZodIssue): { field: string; rule: string } {
  const path = issue.path.map(String);
  let field = path.join('.');
  if (path[0] === 'panels' && path.length >= 2) {
    field = `panel "${path[1]}"${path.length > 2 ? `, field "${path.slice(2).join('.')}"` : ''}`;
  }
  let rule = issue.message;
  if (issue.code === 'unrecognized_keys') rule = `unknown field(s): ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) rule = 'is required';
  if (issue.code === 'invalid_key') field = `panel name "${path[path.length - 1]}"`;
  return { field: field || '(top level)', rule };
}

/** After aliases are expanded, at most this many values (a "billion laughs" file is refused, not walked). */
export const INVENTORY_MAX_VALUES = 5_000_000;

/** Counts values as zod and the rest of panelctl would walk them: an alias counts again each time it is used. */
function countValues(value: unknown, budget: { left: number }): void {
  if (--budget.left < 0) return;
  if (Array.isArray(value)) for (const v of value) countValues(v, budget);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) countValues(v, budget);
}

/**
 * YAML to plain data, with js-yaml's core schema (YAML 1.2: text, numbers, true/false, null,
 * lists, maps). The `yaml` package it replaced was quadratic in the keys of a map (uniqueKeys),
 * and even without that it needed 31 s and 1.3 GB for 100,000 panels where js-yaml needs under
 * a second and 170 MB (`node bench/inventory-parse.mjs`). A key twice in one map is an error;
 * `!!binary`, `!!set`, `!!timestamp` and other tags are refused by name.
 */
/**
 * Digits with a leading zero stay text. The core schema reads `account: 0123` as the number 123: an account, a code
 * prefix or a zone number that lost its zeros is another customer's (a station would put the wrong site on test, a
 * panel would count a wrong code). 0, 0.5, 0x1F and 0o17 are still numbers.
 */
const LEADING_ZERO = /^[-+]?0[0-9_]/;
/** js-yaml's built-in scalar types (exported at run time, not in its type declarations). */
interface ScalarType extends yaml.Type {
  tag: string;
  options: yaml.TypeConstructorOptions;
  resolve(data: string): boolean;
}
const core = (yaml as unknown as { types: Record<'null' | 'bool' | 'int' | 'float', ScalarType> }).types;
/** The numbers of the document being read whose text was not their own digits (`0x1F`, `1e3`, `+5`): digits-as-text.ts. */
let reshaped = new Set<number>();
const keepingZeros = (type: ScalarType) =>
  new yaml.Type(type.tag, {
    ...type.options,
    resolve: (data: string) => !LEADING_ZERO.test(data) && type.resolve(data),
    construct: (data: string) => {
      const value = (type.options.construct as (data: string) => number)(data);
      if (String(value) !== data) reshaped.add(value);
      return value;
    },
  });
const INVENTORY_SCHEMA = yaml.FAILSAFE_SCHEMA.extend({ implicit: [core.null, core.bool, keepingZeros(core.int), keepingZeros(core.float)] });

function readYaml(text: string, source: string): { raw: unknown; reshaped: ReadonlySet<number> } {
  let raw: unknown;
  reshaped = new Set();
  try {
    raw = yaml.load(text, { schema: INVENTORY_SCHEMA, filename: source });
  } catch (error) {
    if (!(error instanceof yaml.YAMLException)) throw error;
    const line = error.mark ? `line ${error.mark.line + 1}: ` : '';
    const tag = /^unknown tag !<tag:yaml\.org,2002:([a-z]+)>/.exec(error.reason)?.[1];
    const reason = tag
      ? `a YAML !!${tag} value is not allowed (an inventory holds text, numbers, true/false, lists and maps)`
      : /^duplicated mapping key/.test(error.reason)
        ? 'a key appears twice in one map'
        : error.reason;
    throw new UsageError(`inventory ${source} is not valid YAML: ${line}${reason}`, { code: 'E_INVENTORY' });
  }
  const budget = { left: INVENTORY_MAX_VALUES };
  countValues(raw, budget);
  if (budget.left < 0) {
    throw new UsageError(`inventory ${source} expands to more than ${INVENTORY_MAX_VALUES} values (aliases used many times over?)`, { code: 'E_TOO_LARGE' });
  }
  return { raw, reshaped };
}

/**
 * Each panel's options and secret names against its driver's schemas: `panel "x", field "options.maxuser": unknown option; did you mean maxUsers?`.
 * Digits YAML made a number where an option takes text are taken as text first, where that is certainly what was typed (digits-as-text.ts).
 */
function driverProblems(raw: unknown, schemas: ReadonlyMap<string, DriverSchemas>, reshaped: ReadonlySet<number>): Array<{ field: string; rule: string }> {
  const isMap = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);
  const panels = isMap(raw) && isMap(raw.panels) ? raw.panels : {};
  const quote = new Map(digitsAsText(panels, schemas, reshaped).map((r) => [`panel "${r.panel}", field "options.${r.key}"`, r.value]));
  const problems: Array<{ field: string; rule: string }> = [];
  for (const [name, panel] of Object.entries(panels)) {
    if (!isMap(panel) || typeof panel.driver !== 'string') continue;
    const driver = schemas.get(panel.driver);
    if (!driver) continue; // an unknown driver, or one without schemas, is the base schema's business
    const options = panel.options === undefined ? {} : panel.options;
    const secrets = panel.secrets === undefined ? {} : panel.secrets;
    if (!isMap(options) || !isMap(secrets)) continue; // the base schema says what is wrong with them
    for (const p of checkDriverOptions(driver, options, secrets, panel.secret !== undefined).problems) {
      const field = `panel "${name}", field "${p.field}"`;
      const number = quote.get(field);
      const hint = number === undefined ? '' : ` (YAML reads this value unquoted as the number ${number}: put it in quotes)`;
      problems.push({ field, rule: `${p.rule}${hint}` });
    }
  }
  return problems;
}

/**
 * The schemas of the drivers in `names` (every driver the registry knows, without it) that declare some. An inventory
 * loads only its own panels' drivers': each driver's schema module builds its zod schemas when it loads, ~1-3 ms
 * apiece on the way of every command (issue 20), and a desk whose panels are all INTEGRA needs no MAP 5000 rules.
 */
export async function driverSchemasOf(
  registry: Pick<DriverRegistry, 'names' | 'loadSchemas'>,
  names: readonly string[] = registry.names,
): Promise<Map<string, DriverSchemas>> {
  const found = new Map<string, DriverSchemas>();
  if (!registry.loadSchemas) return found;
  for (const name of registry.names) {
    if (!names.includes(name)) continue;
    const schemas = await registry.loadSchemas(name);
    if (schemas) found.set(name, schemas);
  }
  return found;
}

/** A YAML document's `panels:` as it is (not yet checked: a list counts too), or none. */
function panelsOf(raw: unknown): Record<string, { driver?: unknown } | null> {
  return raw && typeof raw === 'object' && 'panels' in raw && raw.panels && typeof raw.panels === 'object'
    ? (raw.panels as Record<string, { driver?: unknown } | null>)
    : {};
}

/** The driver names the panels of a YAML document give (whatever else is wrong with it: the checks say that). */
function driversNamedIn(raw: unknown): string[] {
  const panels = panelsOf(raw);
  const names = new Set<string>();
  for (const panel of Object.values(panels)) if (typeof panel?.driver === 'string') names.add(panel.driver);
  return [...names];
}

/** A panel whose driver the registry does not know, said like a schema problem. */
function unknownDrivers(raw: unknown, knownDrivers: readonly string[]): Array<{ field: string; rule: string }> {
  return Object.entries(panelsOf(raw))
    .filter(([, panel]) => typeof panel?.driver === 'string' && !knownDrivers.includes(panel.driver))
    .map(([name]) => ({ field: `panel "${name}", field "driver"`, rule: `must be one of ${knownDrivers.join(', ')}` }));
}

/**
 * `knownDrivers`: the names in the driver registry (OperationContext.drivers). `driverSchemas`, when given: every
 * panel's options and secret names are checked against its driver's, and every problem is listed at once.
 */
export function parseInventory(
  text: string,
  source: string,
  knownDrivers: readonly string[],
  driverSchemas?: ReadonlyMap<string, DriverSchemas>,
): InventoryFile {
  return checkInventory(readYaml(text, source), source, knownDrivers, driverSchemas);
}

/** parseInventory's checks, of the YAML already read. */
function checkInventory(
  { raw, reshaped }: ReturnType<typeof readYaml>,
  source: string,
  knownDrivers: readonly string[],
  driverSchemas?: ReadonlyMap<string, DriverSchemas>,
): InventoryFile {
  const panelCount = Object.keys(panelsOf(raw)).length;
  if (panelCount > INVENTORY_MAX_PANELS) {
    throw new UsageError(`inventory ${source} has ${panelCount} panels; the limit is ${INVENTORY_MAX_PANELS}`, {
      code: 'E_TOO_LARGE',
      hint: 'split it into several inventories (--inventory FILE per desk or region)',
    });
  }
  // Before the base schema, whose data is returned: digits taken as text (digits-as-text.ts) are text in it too.
  const fromDrivers = driverSchemas ? driverProblems(raw, driverSchemas, reshaped) : [];
  const result = inventorySchema.safeParse(raw ?? { panels: {} });
  const problems = [...unknownDrivers(raw, knownDrivers), ...(result.success ? [] : result.error.issues.map(describeIssue)), ...fromDrivers];
  if (problems.length || !result.success) {
    const first = problems[0];
    // The first 20 in the message, the first 1,000 in the data (README "Limits"), then a count.
    const listed = problems.slice(0, 20).map((p) => `  - ${p.field}: ${p.rule}`);
    if (problems.length > listed.length) listed.push(`  ... and ${problems.length - listed.length} more`);
    throw new ValidationError(first.field, first.rule, {
      hint: `inventory ${source} has ${problems.length} problem(s):\n${listed.join('\n')}`,
      data: { problems: problems.slice(0, 1000), problemCount: problems.length },
    });
  }
  return result.data;
}

/**
 * Reads the inventory. `origin` says how the path was chosen ("--inventory", "PANELCTL_INVENTORY",
 * "the default path"), so a missing file names both the path tried and why that one.
 */
/** `drivers`: the registry (names and option schemas: every panel is checked with its driver's), or just the names. */
export async function loadInventory(
  path: string,
  required: boolean,
  origin: string,
  drivers: readonly string[] | Pick<DriverRegistry, 'names' | 'loadSchemas'>,
): Promise<InventoryFile> {
  let text: string;
  try {
    text = await readTextBounded(path, INVENTORY_MAX_BYTES, 'inventory');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return { panels: {} };
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (code ?? (error as Error).message);
    throw new UsageError(`cannot read the inventory ${path} (${origin}): ${why}`, {
      code: 'E_INVENTORY',
      hint: 'name the right file with --inventory FILE or PANELCTL_INVENTORY (see README "Inventory"); the demo panels need none: --panel demo',
      data: { path, origin },
    });
  }
  if (Array.isArray(drivers)) return parseInventory(text, path, drivers);
  const registry = drivers as Pick<DriverRegistry, 'names' | 'loadSchemas'>;
  const read = readYaml(text, path);
  return checkInventory(read, path, registry.names, await driverSchemasOf(registry, driversNamedIn(read.raw)));
}
