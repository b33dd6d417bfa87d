import type { ProbeResult } from '../core/contract.js';
import { toPanelctlError } from '../core/errors.js';
import type { Link } from '../core/link.js';
import { describeLink } from '../core/link.js';
import { connect } from '../transport/index.js';
import { driverNames, loadDriver } from '../../drivers/index.js';

export interface ProbeAttempt {
  driver: string;
  link: string;
  outcome: 'answered' | 'silent' | 'error';
  detail?: string;
}

export interface ProbeOutcome {
  answered?: ProbeResult & { link: string };
  attempts: ProbeAttempt[];
}

/**
 * Asks "who are you?" in each driver's protocol, at that driver's default line settings unless
 * the link says otherwise, and stops at the first that answers. Only identification requests
 * are sent; nothing is written to any panel.
 */
export async function probe(link: Link, options: { timeoutMs: number; signal?: AbortSignal }): Promise<ProbeOutcome> {
  const attempts: ProbeAttempt[] = [];
  for (const name of driverNames) {
    const driver = await loadDriver(name);
    const info = driver.describe();
    if (!driver.probe || !info.transports.includes(link.kind)) continue;
    const effective: Link =
      link.kind === 'tcp'
        ? { ...link, port: link.port ?? info.defaultTcpPort }
        : { ...link, baudRate: link.baudRate ?? info.defaultSerial?.baudRate, parity: link.parity ?? info.defaultSerial?.parity, stopBits: link.stopBits ?? info.defaultSerial?.stopBits, dataBits: link.dataBits ?? info.defaultSerial?.dataBits };
    const where = describeLink(effective);
    if (effective.kind === 'tcp' && !effective.port) continue;
    try {
      const stream = await connect(effective, { tcpPort: info.defaultTcpPort, serial: info.defaultSerial }, options);
      try {
        const result = await driver.probe(stream, options);
        if (result) {
          attempts.push({ driver: name, link: where, outcome: 'answered' });
          return { answered: { ...result, link: where }, attempts };
        }
        attempts.push({ driver: name, link: where, outcome: 'silent', detail: 'no recognisable answer' });
      } finally {
        await stream.close();
      }
    } catch (error) {
      attempts.push({ driver: name, link: where, outcome: 'error', detail: toPanelctlError(error).message });
      if (link.kind === 'serial' && /does not exist|permission|busy/.test(toPanelctlError(error).message)) break;
    }
  }
  return { attempts };
}
