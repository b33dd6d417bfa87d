/**
 * The simulator core: what every shipped simulator shares. State in a JSON file (atomic save),
 * the common fault knobs, answers in order through those knobs, the one-client rule with the
 * vendor's busy answer, serving on TCP or a serial line, and serial pacing.
 */
export { loadState, saveState } from './state.js';
export { simOption, simNumber } from './options.js';
export { FaultKnobs, NO_FAULTS, type LinkFaults } from './faults.js';
export { OneClient, type OneClientOptions } from './one-client.js';
export { ReplyQueue } from './replies.js';
export { listenTcp, serveSerialPort, pacedOutput } from './serve.js';
