import type { PanelSimulator } from '../core/contract.js';
import { ValidationError } from '../core/errors.js';
import type { Link, SerialSettings } from '../core/link.js';

/** Where a simulator is served: a TCP (or, for a self-serving simulator, HTTPS) address, or a serial device. */
export type ServeAt = { tcp: { host: string; port: number } } | { serial: { path: string; settings: SerialSettings } };

export interface ServedSimulator {
  /** The link a client uses to reach it. */
  link: Link;
  close(): Promise<void>;
}

/**
 * Serves a simulator where asked, whatever its shape: a byte-stream simulator gets each accepted TCP connection or
 * the opened serial port (`accept`); a self-serving one (HTTPS) listens on its own (`listen`). The CLI's `sim` and
 * the demo panels both start simulators through this. Listen errors (EADDRINUSE...) are thrown as they come.
 */
export async function serveSimulator(simulator: PanelSimulator, at: ServeAt): Promise<ServedSimulator> {
  if ('tcp' in at) {
    const { host, port } = at.tcp;
    if (simulator.listen) return simulator.listen(host, port);
    const accept = acceptOf(simulator);
    const { serveTcp } = await import('./tcp.js');
    const server = await serveTcp(host, port, accept);
    const shown = host.includes(':') ? `[${host}]` : host;
    return { link: { kind: 'tcp', host, port: server.port, url: `tcp://${shown}:${server.port}` }, close: server.close };
  }
  if (!simulator.accept)
    throw new ValidationError('--serial', 'this simulated panel is not served on a serial line: it listens on its own (use --listen HOST:PORT)');
  const accept = acceptOf(simulator);
  const { serveSerial } = await import('./serial.js');
  const served = await serveSerial(at.serial.path, at.serial.settings, accept);
  return { link: { kind: 'serial', path: at.serial.path, url: `serial://${at.serial.path}`, ...at.serial.settings }, close: served.close };
}

function acceptOf(simulator: PanelSimulator) {
  const accept = simulator.accept;
  if (!accept) throw new Error('a simulator must offer accept(stream) or listen(host, port)');
  return accept.bind(simulator);
}
