import type { PanelSimulator, SimulatorOptions } from '../../src/core/contract.js';
import { NotSupportedError } from '../../src/core/errors.js';

// Placeholder: the modbus simulator is being written.
export async function createSimulator(_options: SimulatorOptions): Promise<PanelSimulator> {
  throw new NotSupportedError('the modbus simulator is not available yet');
}
