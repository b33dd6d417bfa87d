import type { DriverRegistry, DriverSchemas, PanelDriver, SimulatorModule } from '../src/driver-kit/index.js';

/**
 * The drivers panelctl ships. Only the CLI's composition root (src/cli/main.ts) imports this file,
 * and only when a command runs; everything else receives the registry. Each entry loads its
 * folder lazily, so `panelctl --help` loads no driver. A new vendor is a new folder plus one line
 * here.
 */
interface DriverEntry {
  load(): Promise<{ driver: PanelDriver }>;
  loadSimulator(): Promise<SimulatorModule>;
  /** drivers/<name>/options.ts: the zod schemas of its inventory options and secret names. */
  loadSchemas?(): Promise<DriverSchemas>;
}

const entries: Record<string, DriverEntry> = {
  integra: {
    load: () => import('./integra/driver.js'),
    loadSimulator: () => import('./integra/simulator.js'),
    loadSchemas: () => import('./integra/options.js'),
  },
  dsc: { load: () => import('./dsc/driver.js'), loadSimulator: () => import('./dsc/simulator.js'), loadSchemas: () => import('./dsc/options.js') },
  modbus: { load: () => import('./modbus/driver.js'), loadSimulator: () => import('./modbus/simulator.js'), loadSchemas: () => import('./modbus/options.js') },
  vista: { load: () => import('./vista/driver.js'), loadSimulator: () => import('./vista/simulator.js'), loadSchemas: () => import('./vista/options.js') },
  map5000: {
    load: () => import('./map5000/driver.js'),
    loadSimulator: () => import('./map5000/simulator.js'),
    loadSchemas: () => import('./map5000/options.js'),
  },
};

/** A registry over `entries`; tests build their own with extra drivers (test/support/registry.ts). */
export function registryOf(table: Record<string, DriverEntry>): DriverRegistry {
  const entry = (name: string): DriverEntry => {
    const found = Object.hasOwn(table, name) ? table[name] : undefined;
    if (!found) throw new Error(`unknown driver "${name}" (known: ${Object.keys(table).join(', ')})`);
    return found;
  };
  return {
    names: Object.keys(table),
    load: async (name) => (await entry(name).load()).driver,
    loadSimulator: async (name) => entry(name).loadSimulator(),
    loadSchemas: async (name) => entry(name).loadSchemas?.(),
  };
}

export const drivers: DriverRegistry = registryOf(entries);
