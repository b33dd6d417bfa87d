import { Secret } from '../../src/core/secret.js';
import { driverContract, simulatorOnTcp } from '../support/driver-contract.js';
import { dscKeystrokeFacts } from './dsc-facts.js';

/**
 * DSC PowerSeries behind an Envisalink that sends no keypad text (options.lcdText: false; the simulator's
 * `lcdText=false`): it declares writes by slot proven by panel-ack, no reader and no test mode. The request that
 * must reach the panel in the fault tests is a code change (its [*][5] visit).
 */
driverContract('dsc', {
  start: simulatorOnTcp('dsc', { users: 4, options: { lcdText: false } }),
  options: { lcdText: false },
  ask: (session) => session.writer?.changeCode(16, new Secret('9513')) ?? Promise.reject(new Error('a text-less dsc session has a writer')),
  ...dscKeystrokeFacts,
});
