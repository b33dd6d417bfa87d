import { UsageError, ValidationError } from '../../core/errors.js';
import type { SerialSettings } from '../../core/link.js';
import { driverNames, loadDriver, loadSimulator } from '../../../drivers/index.js';
import type { Cli } from '../context.js';
import { parseOptionPair } from '../target-options.js';

interface SimFlags {
  listen?: string;
  serial?: string;
  baud?: string;
  state?: string;
  users?: string;
  pace?: boolean;
  set: string[];
  showCredentials?: boolean;
}

/**
 * An address the simulator cannot serve on is bad input, like any other flag (exit 2, nothing ran):
 * taken by another program, not this machine's, or a privileged port.
 */
function listenError(address: string, error: NodeJS.ErrnoException): Error {
  const why: Record<string, [string, string]> = {
    EADDRINUSE: ['is already in use by another program', 'choose another port, or stop what listens there (`ss -ltnp` shows it); port 0 picks a free one'],
    EADDRNOTAVAIL: ['is not an address of this computer', "use 127.0.0.1, 0.0.0.0 (every interface) or one of this computer's addresses"],
    EACCES: ['needs more rights (ports below 1024 are privileged)', 'use a port of 1024 or more'],
    ENOTFOUND: ['names a host that does not resolve', 'use an IP address such as 127.0.0.1'],
  };
  const known = error.code ? why[error.code] : undefined;
  if (!known) return error;
  return new ValidationError('--listen', `${address} ${known[0]}`, { hint: known[1] });
}

export async function runSim(cli: Cli, driverName: string, flags: SimFlags): Promise<void> {
  if (!driverNames.includes(driverName)) throw new UsageError(`unknown driver "${driverName}" (known: ${driverNames.join(', ')})`, { code: 'E_INVALID' });
  if (!flags.listen === !flags.serial) throw new UsageError('give exactly one of --listen HOST:PORT or --serial DEVICE', { code: 'E_INVALID' });
  const info = (await loadDriver(driverName)).describe();
  const options = Object.fromEntries(flags.set.map((pair) => parseOptionPair(pair, '--set')));
  const users = flags.users === undefined ? undefined : Number(flags.users);
  if (users !== undefined && (!Number.isInteger(users) || users < 0)) throw new ValidationError('--users', 'must be a whole number');
  const serialSettings: SerialSettings = { ...(info.defaultSerial ?? { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 }) };
  if (flags.baud) serialSettings.baudRate = Number(flags.baud);
  const paceBaud = flags.pace && flags.serial ? serialSettings.baudRate : undefined;

  const simulator = await (await loadSimulator(driverName)).createSimulator({
    statePath: flags.state,
    users,
    paceBaud,
    options: { ...options, ...(flags.serial && !('mode' in options) && driverName !== 'integra' ? { mode: driverName === 'modbus' ? 'rtu' : 'it100' } : {}) },
    log: (line) => cli.out.note(line),
  });

  let stop: () => Promise<void>;
  if (flags.listen) {
    const match = /^(.*):(\d+)$/.exec(flags.listen);
    if (!match) throw new ValidationError('--listen', 'must be HOST:PORT, e.g. 127.0.0.1:7094');
    const { serveTcp } = await import('../../transport/tcp.js');
    const host = match[1].replace(/^\[|\]$/g, '');
    const server = await serveTcp(host, Number(match[2]), (stream) => simulator.accept(stream)).catch(async (error: NodeJS.ErrnoException) => {
      await simulator.close();
      throw listenError(flags.listen as string, error);
    });
    cli.out.notice(`simulated ${info.title} listening on tcp://${server.host}:${server.port}`);
    stop = server.close;
  } else {
    const { serveSerial } = await import('../../transport/serial.js');
    const served = await serveSerial(flags.serial as string, serialSettings, (stream) => simulator.accept(stream));
    cli.out.notice(`simulated ${info.title} serving serial ${flags.serial} at ${serialSettings.baudRate} baud${paceBaud ? ' (paced)' : ''}`);
    stop = served.close;
  }
  if (flags.showCredentials) cli.out.notice(`credentials: ${JSON.stringify(simulator.demoSecrets())}`);

  await new Promise<void>((resolve) => {
    const shutdown = () => resolve();
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  await stop();
  await simulator.close();
  cli.out.notice('simulator stopped');
}
