import { UsageError, ValidationError } from '../../core/errors.js';
import { describeLink, type SerialSettings } from '../../core/link.js';
import { serveSimulator } from '../../transport/serve.js';
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
  const { drivers } = cli.ctx;
  if (!drivers.names.includes(driverName)) throw new UsageError(`unknown driver "${driverName}" (known: ${drivers.names.join(', ')})`, { code: 'E_INVALID' });
  if (!flags.listen === !flags.serial) throw new UsageError('give exactly one of --listen HOST:PORT or --serial DEVICE', { code: 'E_INVALID' });
  // Serial-only flags on a TCP simulator would be ignored while it serves on: refused like any other bad flag.
  if (flags.listen && flags.baud !== undefined) throw new ValidationError('--baud', 'goes with --serial (a simulator on --listen has no baud rate)');
  if (flags.listen && flags.pace) throw new ValidationError('--pace', 'goes with --serial (a simulator on --listen is not paced)');
  if (flags.baud !== undefined && !/^[1-9]\d*$/.test(flags.baud)) throw new ValidationError('--baud', 'must be a whole number of bits per second, e.g. 9600');
  const info = (await drivers.load(driverName)).describe();
  const options = Object.fromEntries(flags.set.map((pair) => parseOptionPair(pair, '--set')));
  const simulatorModule = await drivers.loadSimulator(driverName);
  // A name the simulator does not read would be ignored while it serves on: a typo must not pass for a setting.
  const known = simulatorModule.simulatorOptions;
  const unknown = known ? Object.keys(options).filter((name) => !known.includes(name)) : [];
  if (unknown.length) {
    throw new ValidationError('--set', `the ${driverName} simulator has no option ${unknown.map((n) => `"${n}"`).join(', ')} (it reads: ${known?.join(', ')})`);
  }
  const users = flags.users === undefined ? undefined : Number(flags.users);
  if (users !== undefined && (!Number.isInteger(users) || users < 0)) throw new ValidationError('--users', 'must be a whole number');
  const serialSettings: SerialSettings = { ...(info.defaultSerial ?? { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 }) };
  if (flags.baud) serialSettings.baudRate = Number(flags.baud);
  const paceBaud = flags.pace ? serialSettings.baudRate : undefined;

  // The simulator picks its own mode from where it is served (DSC: IT-100 on serial; Modbus: RTU framing).
  const simulator = await simulatorModule.createSimulator({
    statePath: flags.state,
    users,
    paceBaud,
    servedOn: flags.serial ? 'serial' : 'tcp',
    options,
    log: (line) => cli.out.note(line),
  });

  let stop: () => Promise<void>;
  if (flags.listen) {
    const match = /^(.*):(\d+)$/.exec(flags.listen);
    if (!match) {
      await simulator.close();
      throw new ValidationError('--listen', 'must be HOST:PORT, e.g. 127.0.0.1:7094');
    }
    const host = match[1].replace(/^\[|\]$/g, '');
    const served = await serveSimulator(simulator, { tcp: { host, port: Number(match[2]) } }).catch(async (error: NodeJS.ErrnoException) => {
      await simulator.close();
      throw listenError(flags.listen as string, error);
    });
    cli.out.notice(`simulated ${info.title} listening on ${describeLink(served.link)}`);
    stop = served.close;
  } else {
    const served = await serveSimulator(simulator, { serial: { path: flags.serial as string, settings: serialSettings } }).catch(async (error) => {
      await simulator.close();
      throw error;
    });
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
