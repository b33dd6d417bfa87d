import type { Link, SerialSettings } from '../core/link.js';
import { UsageError, ValidationError } from '../core/errors.js';
import type { ByteStream, TimeoutOptions } from './types.js';

export type { ByteStream, TimeoutOptions } from './types.js';

export interface ConnectDefaults {
  tcpPort?: number;
  serial?: SerialSettings;
}

/** Opens the link a panel is on. Serial support (and the serialport package) loads only when used. */
export async function connect(link: Link, defaults: ConnectDefaults, options: TimeoutOptions): Promise<ByteStream> {
  // Refused before anything is contacted: this driver speaks bytes, and an http(s) link carries requests.
  if (link.kind === 'http') throw new ValidationError('link', `this panel's driver talks over tcp:// or serial://, not ${link.secure ? 'https' : 'http'}://`);
  if (link.kind === 'tcp') {
    const port = link.port ?? defaults.tcpPort;
    if (!port) throw new UsageError(`link ${link.url} needs a port (this driver has no default)`);
    const { connectTcp } = await import('./tcp.js');
    return connectTcp(link.host, port, options);
  }
  const settings: SerialSettings = {
    baudRate: link.baudRate ?? defaults.serial?.baudRate ?? 9600,
    dataBits: link.dataBits ?? defaults.serial?.dataBits ?? 8,
    parity: link.parity ?? defaults.serial?.parity ?? 'none',
    stopBits: link.stopBits ?? defaults.serial?.stopBits ?? 1,
  };
  const { openSerial } = await import('./serial.js');
  return openSerial(link.path, settings, options);
}
