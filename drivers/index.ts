import type { PanelDriver, SimulatorModule } from '../src/driver-kit/index.js';

/**
 * The one place the rest of panelctl learns which drivers exist. Each entry loads its
 * folder lazily, so `panelctl --help` loads no driver. A new vendor is a new folder
 * plus one line here.
 */
interface DriverEntry {
  title: string;
  load(): Promise<{ driver: PanelDriver }>;
  loadSimulator(): Promise<SimulatorModule>;
}

const registry: Record<string, DriverEntry> = {
  integra: {
    title: 'SATEL INTEGRA (ETHM-1 / INT-RS integration protocol)',
    load: () => import('./integra/driver.js'),
    loadSimulator: () => import('./integra/simulator.js'),
  },
  dsc: {
    title: 'DSC PowerSeries (IT-100 / Envisalink TPI)',
    load: () => import('./dsc/driver.js'),
    loadSimulator: () => import('./dsc/simulator.js'),
  },
  modbus: {
    title: 'Generic Modbus RTU/TCP with a register-map profile',
    load: () => import('./modbus/driver.js'),
    loadSimulator: () => import('./modbus/simulator.js'),
  },
  vista: {
    title: 'Honeywell VISTA through an AlarmDecoder (AD2USB / AD2PI / ser2sock)',
    load: () => import('./vista/driver.js'),
    loadSimulator: () => import('./vista/simulator.js'),
  },
  map5000: { title: 'Bosch MAP 5000 (HTTPS REST API)', load: () => import('./map5000/driver.js'), loadSimulator: () => import('./map5000/simulator.js') },
};

export const driverNames: readonly string[] = Object.keys(registry);

function entry(name: string): DriverEntry {
  const found = registry[name];
  if (!found) throw new Error(`unknown driver "${name}" (known: ${driverNames.join(', ')})`);
  return found;
}

export async function loadDriver(name: string): Promise<PanelDriver> {
  return (await entry(name).load()).driver;
}

export async function loadSimulator(name: string): Promise<SimulatorModule> {
  return entry(name).loadSimulator();
}
