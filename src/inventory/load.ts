import { LineCounter, isScalar, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { UsageError, ValidationError } from '../core/errors.js';
import { MiB, readTextBounded } from '../core/bounded-read.js';
import { inventorySchema, type InventoryFile } from './schema.js';

/**
 * Limits (README "Limits"): an inventory larger than this is refused before it is parsed, and
 * one with more panels after. Parsing is linear in the file's size (see `readYaml`): 50,000
 * panels take a few seconds.
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

/** A YAML value that is not text, a number, true/false, null, a list or a map: named for the message. */
function exoticType(value: unknown): string | undefined {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return undefined;
  if (value instanceof Uint8Array) return '!!binary';
  if (value instanceof Set) return '!!set';
  if (value instanceof Map) return '!!omap or !!pairs';
  if (value instanceof Date) return '!!timestamp';
  if (typeof value === 'bigint') return 'a big integer';
  if (Array.isArray(value)) return undefined;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null ? undefined : `a ${typeof value}`;
}

/** Every non-plain value, with its path (one path array, copied only for a finding). */
function exoticValues(value: unknown, path: string[], found: Array<{ path: string[]; type: string }>): void {
  const type = exoticType(value);
  if (type) {
    found.push({ path: [...path], type });
    return;
  }
  if (!value || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && typeof v !== 'object' && typeof v !== 'bigint') continue;
    path.push(k);
    exoticValues(v, path, found);
    path.pop();
  }
}

function fieldOf(path: string[]): string {
  if (path[0] === 'panels' && path.length >= 2) return `panel "${path[1]}"${path.length > 2 ? `, field "${path.slice(2).join('.')}"` : ''}`;
  return path.join('.') || '(top level)';
}

/**
 * YAML to plain data. yaml's own duplicate-key check (`uniqueKeys`) compares each key with
 * every earlier key of its map: quadratic, 11.5 s for 20,000 panels. It is off, and a set per
 * map finds duplicates in linear time instead (a duplicate panel name is still an error).
 */
function readYaml(text: string, source: string): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, lineCounter: lines });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new UsageError(`inventory ${source} is not valid YAML: ${problem.message.split('\n')[0]}`, { code: 'E_INVENTORY' });
  let duplicate: { key: string; line?: number } | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key)) {
          const at = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
          duplicate = { key: String(key), line: at === undefined ? undefined : lines.linePos(at).line };
          return visit.BREAK;
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  if (duplicate !== undefined) throw new UsageError(`inventory ${source} is not valid YAML: ${duplicate.line ? `line ${duplicate.line}: ` : ''}the key "${duplicate.key}" appears twice in one map`, { code: 'E_INVENTORY' });
  const raw = doc.toJS({ maxAliasCount: 100 });
  const exotic: Array<{ path: string[]; type: string }> = [];
  exoticValues(raw, [], exotic);
  if (exotic.length) {
    const problems = exotic.map((e) => ({ field: fieldOf(e.path), rule: `a YAML ${e.type} value is not allowed (an inventory holds text, numbers, true/false, lists and maps)` }));
    throw new ValidationError(problems[0].field, problems[0].rule, { hint: `inventory ${source} has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p.field}: ${p.rule}`).join('\n')}`, data: { problems } });
  }
  return raw;
}

export function parseInventory(text: string, source: string): InventoryFile {
  const raw = readYaml(text, source);
  const panelCount = raw && typeof raw === 'object' && 'panels' in raw && raw.panels && typeof raw.panels === 'object' ? Object.keys(raw.panels).length : 0;
  if (panelCount > INVENTORY_MAX_PANELS) {
    throw new UsageError(`inventory ${source} has ${panelCount} panels; the limit is ${INVENTORY_MAX_PANELS}`, { code: 'E_TOO_LARGE', hint: 'split it into several inventories (--inventory FILE per desk or region)' });
  }
  const result = inventorySchema.safeParse(raw ?? { panels: {} });
  if (!result.success) {
    const problems = result.error.issues.map(describeIssue);
    const first = problems[0];
    const message = problems.map((p) => `  - ${p.field}: ${p.rule}`).join('\n');
    throw new ValidationError(first.field, first.rule, {
      hint: `inventory ${source} has ${problems.length} problem(s):\n${message}`,
      data: { problems },
    });
  }
  return result.data;
}

export async function loadInventory(path: string, required: boolean): Promise<InventoryFile> {
  let text: string;
  try {
    text = await readTextBounded(path, INVENTORY_MAX_BYTES, 'inventory');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return { panels: {} };
    throw new UsageError(`cannot read inventory ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      code: 'E_INVENTORY',
      hint: 'pass --inventory FILE or set PANELCTL_INVENTORY; see README "Inventory"',
    });
  }
  return parseInventory(text, path);
}
