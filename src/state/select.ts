import { readFileSync } from 'node:fs';
import { PanelctlError, ValidationError } from '../core/errors.js';
import { configureSharedStore, type SharedStore } from './store.js';

/**
 * Which backend holds this run's state: $PANELCTL_STATE wins, then `state:` in the inventory,
 * else the files. Decided on first use, so commands that never touch state never read the inventory.
 */
export function parseStateSetting(value: string, origin: string): string | undefined {
  const text = value.trim();
  if (text === '' || text === 'files') return undefined;
  if (/^postgres(ql)?:\/\/.+/.test(text)) return text;
  throw new ValidationError(
    origin,
    'must be files or a postgres://user@host/database URL (the password from PGPASSWORD or ~/.pgpass, never in a file others read)',
  );
}

/**
 * The inventory's `state:` without parsing the whole YAML when the file has no such key. Read synchronously: nothing
 * else runs this early in a command, and the promise API would load node:fs/promises (1-2 ms) for it (issue 20).
 */
async function inventoryState(inventoryPath: string, load: () => Promise<{ state?: string }>): Promise<string | undefined> {
  let text = '';
  try {
    text = readFileSync(inventoryPath, 'utf8');
  } catch {
    // no inventory (or none readable): its own reading says why, where one is needed
  }
  if (!/^state\s*:/m.test(text)) return undefined;
  return (await load()).state;
}

export function selectStateStore(stateDir: string, inventoryPath: string, loadInventory: () => Promise<{ state?: string }>, env = process.env): void {
  configureSharedStore(stateDir, async (): Promise<SharedStore | undefined> => {
    const url =
      env.PANELCTL_STATE !== undefined
        ? parseStateSetting(env.PANELCTL_STATE, 'PANELCTL_STATE')
        : parseStateSetting((await inventoryState(inventoryPath, loadInventory)) ?? 'files', 'state (inventory)');
    if (!url) return undefined;
    const { PgSharedStore } = await import('./postgres/store.js');
    return new PgSharedStore(url);
  });
}

/**
 * A read-only command when the shared store cannot be reached: it still answers, from this
 * machine's files, and says loudly that the desk's view is missing (exit 8 with --detailed-exitcode).
 */
export async function orLocalView<T>(
  cli: { out: { warn(text: string): void }; attention(reason: string): void },
  what: string,
  shared: () => Promise<T>,
  local: () => Promise<T>,
): Promise<T> {
  try {
    return await shared();
  } catch (error) {
    if (!(error instanceof PanelctlError && error.code === 'E_STATE_UNAVAILABLE')) throw error;
    cli.out.warn(`shared view missing: ${error.message}; showing ${what}`);
    cli.attention('the shared state store cannot be reached');
    return local();
  }
}
