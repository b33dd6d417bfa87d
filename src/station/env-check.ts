import type { z } from 'zod';

/**
 * A station program's `env:` may name variables to pass on, but never one that holds a credential
 * elsewhere in the inventory (a panel's `secret`/`secrets`, a webhook key): a code never reaches a
 * child's environment. Checked when the inventory loads, naming the field.
 */

interface StationLike {
  type: string;
  env?: string[];
  secret?: string;
}

interface InventoryLike {
  defaults?: { station?: string | StationLike };
  stations?: Record<string, StationLike>;
  panels: Record<string, { secret?: string; secrets?: Record<string, string>; station?: string | StationLike }>;
}

function envName(ref: string | undefined): string | undefined {
  return ref?.startsWith('env:') ? ref.slice(4) : undefined;
}

export function refuseCredentialsInStationEnv(inventory: InventoryLike, ctx: z.RefinementCtx): void {
  const credentials = new Map<string, string>();
  const note = (ref: string | undefined, where: string) => {
    const name = envName(ref);
    if (name && !credentials.has(name)) credentials.set(name, where);
  };
  for (const [panel, config] of Object.entries(inventory.panels ?? {})) {
    note(config.secret, `panels.${panel}.secret`);
    for (const [key, ref] of Object.entries(config.secrets ?? {})) note(ref, `panels.${panel}.secrets.${key}`);
  }
  const stations: [(string | number)[], StationLike][] = [];
  for (const [name, station] of Object.entries(inventory.stations ?? {})) stations.push([['stations', name], station]);
  if (inventory.defaults?.station && typeof inventory.defaults.station === 'object') stations.push([['defaults', 'station'], inventory.defaults.station]);
  for (const [panel, config] of Object.entries(inventory.panels ?? {})) {
    if (config.station && typeof config.station === 'object') stations.push([['panels', panel, 'station'], config.station]);
  }
  for (const [where, station] of stations) note(station.secret, `${where.join('.')}.secret`);
  for (const [where, station] of stations) {
    (station.env ?? []).forEach((name, index) => {
      const holder = credentials.get(name);
      if (holder)
        ctx.addIssue({
          code: 'custom',
          path: [...where, 'env', index],
          message: `${name} holds a credential (${holder}); a station program is never given one`,
        });
    });
  }
}
