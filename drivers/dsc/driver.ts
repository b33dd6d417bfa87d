import type { PanelDriver } from '../../src/core/contract.js';
import { NotSupportedError } from '../../src/core/errors.js';

// Placeholder: the dsc driver is being written.
export const driver: PanelDriver = {
  describe() {
    throw new NotSupportedError('the dsc driver is not available yet');
  },
  async open() {
    throw new NotSupportedError('the dsc driver is not available yet');
  },
};
