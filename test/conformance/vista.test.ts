import { Secret } from '../../src/core/secret.js';
import { driverContract, simulatorOnTcp } from '../support/driver-contract.js';

/**
 * VISTA behind an AlarmDecoder against its simulator (ser2sock style). Codes go out as plain keys, one
 * character each, so the master code is counted in the raw bytes the client sent. A VISTA has no reader
 * and its test-mode status reads the last display without asking anything: the request that must reach
 * the panel is a code change (its keys), and its answer is the beep.
 */
driverContract('vista', {
  start: simulatorOnTcp('vista', { users: 3, options: { statusIntervalMs: 100, keyTimeoutMs: 300 } }),
  options: { keyIntervalMs: 5, ackTimeoutMs: 1500, keyTimeoutMs: 300 },
  slot: 17,
  name: '',
  codes: ['7391', '8462'],
  ask: (session) => session.writer?.changeCode(16, new Secret('9513')) ?? Promise.reject(new Error('a vista session has a writer')),
  credential: {
    secret: 'code',
    wrong: '5173',
    timesSent: (bytes, value) => bytes.toString('latin1').split(value).length - 1,
  },
});
