import { driverContract, simulatorOnTcp } from '../support/driver-contract.js';

/** SATEL INTEGRA against its simulator: the requester code travels as 8 BCD bytes, F-padded (drivers/integra/bcd.ts). */
driverContract('integra', {
  start: simulatorOnTcp('integra', { users: 4 }),
  slot: 30,
  name: 'Conformance',
  codes: ['739154', '846213'],
  credential: {
    secret: 'code',
    wrong: '9081726',
    timesSent: (bytes, value) => occurrences(bytes, Buffer.from(value.padEnd(16, 'f'), 'hex')),
  },
});

function occurrences(haystack: Buffer, needle: Buffer): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) count++;
  return count;
}
