/**
 * The driver kit: the one module under src/ that drivers (drivers/<name>/) import. Everything a
 * vendor folder needs from panelctl is re-exported here, so the boundary between panelctl and a
 * driver is one file, and the linter can hold drivers to it (biome.json, noRestrictedImports).
 */
export * from '../core/contract.js';
export * from '../core/errors.js';
export * from '../core/secret.js';
export * from '../core/bounded-read.js';
export type { Link, SerialSettings } from '../core/link.js';
export type { ByteStream } from '../transport/types.js';
export { FrameChannel, DEFAULT_LIMITS, formatMs } from '../transport/channel.js';
export type { FrameDecoder } from '../transport/channel.js';
export { connect } from '../transport/index.js';
export { paced } from '../transport/pace.js';
export { serveTcp } from '../transport/tcp.js';
export { memoryPair } from '../transport/memory.js';
export * from './simulator/index.js';
export * from './keypad/index.js';
