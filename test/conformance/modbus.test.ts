import { driverContract, simulatorOnTcp } from '../support/driver-contract.js';

/** Generic Modbus with the shipped demo profile: codes are BCD nibbles in two holding registers (demo-modbus.yaml). */
driverContract('modbus', {
  start: simulatorOnTcp('modbus', { options: { profile: 'demo-modbus' } }),
  options: { profile: 'demo-modbus' },
  slot: 20,
  name: 'Conformance',
  codes: ['739154', '846213'],
  // A register holding BCD digits, as a trace might print it in decimal.
  codeForms: (code) => (code.padEnd(8, 'f').match(/.{4}/g) ?? []).map((hex) => String(Number.parseInt(hex, 16))),
});
