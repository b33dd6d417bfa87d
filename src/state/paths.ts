import os from 'node:os';
import path from 'node:path';
import envPaths from 'env-paths';

const appPaths = envPaths('panelctl', { suffix: '' });

/**
 * Where panelctl keeps what it writes: audit log, test-mode leases, bulk journals.
 * $PANELCTL_STATE_DIR wins; on Linux the XDG state dir; elsewhere the platform's data dir.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PANELCTL_STATE_DIR) return path.resolve(env.PANELCTL_STATE_DIR);
  if (process.platform === 'linux') {
    return path.join(env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'panelctl');
  }
  return path.join(appPaths.data, 'state');
}

/** The inventory file: --inventory, then $PANELCTL_INVENTORY, then the config dir. */
export function defaultInventoryPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PANELCTL_INVENTORY) return path.resolve(env.PANELCTL_INVENTORY);
  const configHome = process.platform === 'linux' && env.XDG_CONFIG_HOME ? path.join(env.XDG_CONFIG_HOME, 'panelctl') : appPaths.config;
  return path.join(configHome, 'inventory.yaml');
}

/**
 * The built-in demo panels keep their simulated memory (which, like a real panel's, holds codes)
 * here, apart from the state dir, which never holds a code.
 */
export function demoDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PANELCTL_DEMO_DIR) return path.resolve(env.PANELCTL_DEMO_DIR);
  return path.join(appPaths.data, 'demo-panels');
}

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}
