import fs from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { UsageError, ValidationError } from '../core/errors.js';
import { inventorySchema, type InventoryFile } from './schema.js';

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

export function parseInventory(text: string, source: string): InventoryFile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new UsageError(`inventory ${source} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, { code: 'E_INVENTORY' });
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
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return { panels: {} };
    throw new UsageError(`cannot read inventory ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      code: 'E_INVENTORY',
      hint: 'pass --inventory FILE or set PANELCTL_INVENTORY; see README "Inventory"',
    });
  }
  return parseInventory(text, path);
}
