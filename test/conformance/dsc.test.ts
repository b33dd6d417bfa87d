import { driverContract, simulatorOnTcp } from '../support/driver-contract.js';
import { dscKeystrokeFacts } from './dsc-facts.js';

/**
 * DSC PowerSeries against its simulator (Envisalink TPI with keypad text): writes read back from the [*][5] slot
 * list on the LCD. The module without keypad text has its own entry (dsc-notext.test.ts).
 */
driverContract('dsc', {
  start: simulatorOnTcp('dsc', { users: 4 }),
  ...dscKeystrokeFacts,
});
