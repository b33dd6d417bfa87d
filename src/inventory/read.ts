import { statSync } from 'node:fs';
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
  if (!required && missing(path)) return { panels: {} };
  const { loadInventory } = await import('./load.js');
  return loadInventory(path, required, origin, drivers);
}

/**
 * Whether nothing is at `path`. Synchronous on purpose: one stat of a local file takes microseconds, and the
 * promise version would load node:fs/promises (1-2 ms with the readline it brings) and start libuv's thread
 * pool on the way of every command (issue 20). Any other error is loadInventory's to explain.
 */
function missing(path: string): boolean {
  try {
    statSync(path);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
