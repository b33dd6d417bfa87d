import { stat } from 'node:fs/promises';
import type { DriverRegistry } from '../core/contract.js';
import type { InventoryFile } from './schema.js';

/**
 * The inventory as loadInventory (load.ts) reads it, except that without a file, where none is
 * required, the YAML parser and the schema are never loaded: they are the largest part of a
 * command's start-up, and `--panel demo` on a machine without an inventory needs neither.
 */
export async function readInventory(
  path: string,
  required: boolean,
  origin: string,
  drivers: readonly string[] | Pick<DriverRegistry, 'names' | 'loadSchemas'>,
): Promise<InventoryFile> {
  if (
    !required &&
    (await stat(path).then(
      () => false,
      (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
    ))
  )
    return { panels: {} };
  const { loadInventory } = await import('./load.js');
  return loadInventory(path, required, origin, drivers);
}
