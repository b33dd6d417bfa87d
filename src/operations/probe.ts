import type { DriverRegistry, ProbeResult } from '../core/contract.js';
import { NotSupportedError, toPanelctlError, type PanelctlError } from '../core/errors.js';
import type { DriverInfo } from '../core/contract.js';
import { describeLink, transportOf, type Link } from '../core/link.js';

export interface ProbeAttempt {
  driver: string;
  link: string;
  outcome: 'answered' | 'silent' | 'error';
  detail?: string;
}

export interface ProbeOutcome {
  answered?: ProbeResult & { link: string };
  attempts: ProbeAttempt[];
  /** Why probing stopped before every protocol was tried: the port is missing, busy or not ours to open. */
  stoppedBy?: PanelctlError;
}

/**
 * Asks "who are you?" in each driver's protocol, at that driver's default line settings unless
 * the link says otherwise, and stops at the first that answers. Only identification requests
 * are sent; nothing is written to any panel.
 */
export async function probe(link: Link, options: { timeoutMs: number; signal?: AbortSignal; drivers: DriverRegistry }): Promise<ProbeOutcome> {
  const attempts: ProbeAttempt[] = [];
  const drivers = await inProbeOrder(link, options.drivers);
  const transport = transportOf(link);
  if (!drivers.some(({ driver, info }) => driver.probe && info.transports.includes(transport))) {
    throw new NotSupportedError(`no driver can probe ${transport}:// links`, {
      hint: 'give the driver with --driver and use a command such as `panelctl info`',
    });
  }
  for (const { name, driver, info } of drivers) {
    if (!driver.probe || !info.transports.includes(transportOf(link))) continue;
    const effective = withDefaults(link, info);
    const where = describeLink(effective);
    if (effective.kind === 'tcp' && !effective.port) continue;
    try {
      // The driver opens what its protocol needs (a byte stream, an HTTPS request) through the kit, and closes it.
      const result = await driver.probe(effective, options);
      if (result) {
        attempts.push({ driver: name, link: where, outcome: 'answered' });
        return { answered: { ...result, link: where }, attempts };
      }
      attempts.push({ driver: name, link: where, outcome: 'silent', detail: 'no recognisable answer' });
    } catch (error) {
      if (options.signal?.aborted) throw error; // Ctrl-C: stop probing, do not try the next protocol
      const failure = toPanelctlError(error);
      attempts.push({ driver: name, link: where, outcome: 'error', detail: failure.message });
      // The port itself is the problem: no other protocol or line setting can help.
      if (link.kind === 'serial' && ['E_NO_PORT', 'E_PORT_PERMISSION', 'E_PORT_BUSY'].includes(failure.code)) return { attempts, stoppedBy: failure };
    }
  }
  return { attempts };
}

/** The link at this driver's default TCP port or serial line settings, where the link leaves them open. */
function withDefaults(link: Link, info: DriverInfo): Link {
  if (link.kind === 'tcp') return { ...link, port: link.port ?? info.defaultTcpPort };
  if (link.kind === 'http') return link;
  return {
    ...link,
    baudRate: link.baudRate ?? info.defaultSerial?.baudRate,
    parity: link.parity ?? info.defaultSerial?.parity,
    stopBits: link.stopBits ?? info.defaultSerial?.stopBits,
    dataBits: link.dataBits ?? info.defaultSerial?.dataBits,
  };
}

/**
 * Drivers whose default port (TCP) or baud rate (serial) the link already names go first: on
 * tcp://host:4025 the Envisalink is the likely answer, and every silent protocol tried before it
 * costs a whole timeout.
 */
export async function inProbeOrder(link: Link, registry: DriverRegistry) {
  const drivers = await Promise.all(registry.names.map(async (name) => ({ name, driver: await registry.load(name) })));
  const withInfo = drivers.map((d) => ({ ...d, info: d.driver.describe() }));
  const likely = (info: DriverInfo) =>
    link.kind === 'tcp'
      ? link.port !== undefined && link.port === info.defaultTcpPort
      : link.kind === 'serial' && link.baudRate !== undefined && link.baudRate === info.defaultSerial?.baudRate;
  return [...withInfo.filter((d) => likely(d.info)), ...withInfo.filter((d) => !likely(d.info))];
}
