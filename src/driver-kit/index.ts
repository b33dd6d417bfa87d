/**
 * The driver kit: the one module under src/ that drivers (drivers/<name>/) import. Everything a
 * vendor folder needs from panelctl is re-exported here, so the boundary between panelctl and a
 * driver is one file, and the linter can hold drivers to it (biome.json, noRestrictedImports).
 */
export * from '../core/contract.js';
export * from '../core/errors.js';
export * from '../core/secret.js';
export * from '../core/bounded-read.js';
export type { HttpLink, Link, SerialLink, SerialSettings, TcpLink, TlsSettings, TransportKind } from '../core/link.js';
export { describeLink, transportOf } from '../core/link.js';
export type { ByteStream, TimeoutOptions } from '../core/byte-stream.js';
export { FrameChannel, DEFAULT_LIMITS, formatMs } from '../transport/channel.js';
export type { FrameDecoder } from '../transport/channel.js';
export { connect } from '../transport/index.js';
export { paced } from '../transport/pace.js';
export { serveTcp } from '../transport/tcp.js';
export { memoryPair } from '../transport/memory.js';
export * from './simulator/index.js';
export * from './keypad/index.js';
export { serveSimulator } from '../transport/serve.js';
export type { ServeAt, ServedSimulator } from '../transport/serve.js';
export type { HttpClient, HttpClientOptions, HttpRequest, HttpResponse } from '../transport/http.js';
export { quietLeft, sinceLastContact } from './contact.js';
export { checkDriverOptions, parseDriverOptions, optionHelpOf, COMMON_OPTIONS, type OptionProblem } from './options.js';

/**
 * The HTTP(S) client, loaded on first use: node:http and node:tls (with the DNS resolver they set up)
 * cost a few ms of every start-up, and only drivers of panels with a web interface need them.
 */
export const openHttp: typeof import('../transport/http.js').openHttp = async (link, options) => (await import('../transport/http.js')).openHttp(link, options);
