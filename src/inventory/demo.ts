import path from 'node:path';
import type { Secret, Secrets } from '../core/secret.js';
import type { DriverOptions, DriverRegistry } from '../core/contract.js';
import type { Link } from '../core/link.js';
import type { Target } from './target.js';
import { demoDir } from '../state/paths.js';

/**
 * Built-in panels that need nothing installed: each starts its driver's simulator in this
 * process on a loopback port, with its memory kept under the demo dir so that a user added
 * in one command is there in the next.
 */
const DEMOS: Record<string, { driver: string; options: DriverOptions; description: string }> = {
  demo: { driver: 'integra', options: {}, description: 'simulated SATEL INTEGRA 128 behind an ETHM-1 Plus' },
  'demo-integra': { driver: 'integra', options: {}, description: 'simulated SATEL INTEGRA 128 behind an ETHM-1 Plus' },
  'demo-dsc': {
    driver: 'dsc',
    options: { codeLength: 4 },
    description: 'simulated DSC PowerSeries PC1864 behind an Envisalink that sends the keypad text (an LCD-text module; see the dsc driver README)',
  },
  'demo-modbus': { driver: 'modbus', options: { profile: 'demo-modbus', unit: 1 }, description: 'simulated Modbus access controller (profile demo-modbus)' },
  'demo-vista': { driver: 'vista', options: { keyIntervalMs: 50 }, description: 'simulated Honeywell VISTA-20P behind an AlarmDecoder (ser2sock)' },
  'demo-map': { driver: 'map5000', options: { user: 'panelctl-demo' }, description: 'simulated Bosch MAP 5000 over HTTPS (REST API, MUM licence)' },
};

export const demoPanelNames = Object.keys(DEMOS);

export function isDemoPanel(name: string): boolean {
  return name in DEMOS;
}

export function demoTarget(name: string): Target {
  const demo = DEMOS[name];
  return {
    name,
    driver: demo.driver,
    link: { kind: 'tcp', host: '127.0.0.1', url: 'tcp://127.0.0.1 (in-process simulator)' },
    secretRefs: {},
    options: demo.options,
    tags: { demo: 'true' },
    account: '0000',
    description: demo.description,
    demo: true,
  };
}

export interface RunningDemo {
  link: Link;
  secrets: Secrets;
  close(): Promise<void>;
}

/** Starts the demo panel's simulator on a loopback port (or its own HTTPS listener), through the driver kit. */
export async function startDemo(target: Target, drivers: DriverRegistry): Promise<RunningDemo> {
  const kit = await import('../driver-kit/index.js');
  const simulators = await drivers.loadSimulator(target.driver);
  const statePath = path.join(demoDir(), `${target.driver}.json`);
  const simulator = await simulators.createSimulator({ statePath, users: 12, servedOn: 'tcp', options: { ...target.options } });
  const served = await kit.serveSimulator(simulator, { tcp: { host: '127.0.0.1', port: 0 } }).catch(async (error) => {
    await simulator.close();
    throw error;
  });
  const secrets: Record<string, Secret> = {};
  for (const [key, value] of Object.entries(simulator.demoSecrets())) secrets[key] = new kit.Secret(value, key);
  return {
    link: served.link,
    secrets,
    async close() {
      await served.close();
      await simulator.close();
    },
  };
}
