/** The stream types live in src/core (the contract speaks of them, and core imports nothing above it). */
export type { ByteStream, TimeoutOptions } from '../core/byte-stream.js';
