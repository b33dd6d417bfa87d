import { UnreachableError } from '../../core/errors.js';
import { parseLink } from '../../core/link.js';
import { listPorts, listPseudoTerminals } from '../../transport/ports.js';
import { probe } from '../../operations/probe.js';
import type { Cli } from '../context.js';

export async function runPorts(cli: Cli, flags: { all?: boolean } = {}): Promise<void> {
  const listing = await listPorts();
  const ports = flags.all ? [...listing.ports, ...(await listPseudoTerminals())] : listing.ports;
  const rows = ports.map((p) => ({ ...p, usb: p.vendorId ? `${p.vendorId}:${p.productId ?? '?'}` : undefined }));
  cli.out.result({ source: listing.source, fallbackReason: listing.fallbackReason ?? null, ports }, rows, [
    { header: 'PATH', value: (p) => p.path },
    { header: 'USB ID', value: (p) => p.usb ?? '' },
    { header: 'MANUFACTURER', value: (p) => p.manufacturer ?? '' },
    { header: 'SERIAL', value: (p) => p.serialNumber ?? '' },
    { header: 'BY-ID', value: (p) => p.byId ?? '' },
    { header: 'DESCRIPTION', value: (p) => p.description ?? '' },
  ]);
  cli.out.note(
    listing.source === 'sysfs'
      ? `source: the kernel's /sys/class/tty (the serialport library could not list: ${listing.fallbackReason})`
      : 'source: the serialport library',
  );
  if (!flags.all && process.platform !== 'win32') cli.out.note('pseudo-terminals (/dev/pts/*, e.g. a socat pair for a rehearsal) are not listed: add --all');
}

export async function runProbe(cli: Cli, linkText: string): Promise<void> {
  const link = parseLink(linkText, 'link');
  const outcome = await probe(link, { timeoutMs: cli.ctx.timeoutMs > 3000 ? 2000 : cli.ctx.timeoutMs, signal: cli.ctx.signal, drivers: cli.ctx.drivers });
  const answered = outcome.answered;
  const next = answered
    ? `panelctl users list --link '${answered.link}' --driver ${answered.driver}${(await needsCode(cli, answered.driver)) ? ' --secret-from prompt' : ''}`
    : null;
  cli.out.result({ answered: answered ?? null, attempts: outcome.attempts, next }, outcome.attempts, [
    { header: 'DRIVER', value: (a) => a.driver },
    { header: 'TRIED', value: (a) => a.link },
    { header: 'RESULT', value: (a) => (a.outcome === 'answered' ? cli.out.color.green('answered') : `${a.outcome}${a.detail ? `: ${a.detail}` : ''}`) },
  ]);
  // Nothing answering on a link is "cannot reach" (exit 4), as for every other command; a missing,
  // busy or forbidden port is reported as such, with the ports that do exist.
  if (outcome.stoppedBy) throw outcome.stoppedBy;
  if (!answered) {
    throw new UnreachableError('E_NO_ANSWER', `no known panel protocol answered on ${link.url}`, {
      hint: "check the cable, the module's settings (INT-RS function 2, IT-100 baud rate) and the link; `panelctl ports` lists the serial ports",
      transient: false,
    });
  }
  cli.out.say(
    `${cli.out.color.green('✓')} ${answered.model}${answered.firmware ? ` (firmware ${answered.firmware})` : ''} answered the ${answered.driver} protocol on ${answered.link}`,
  );
  cli.out.say(`next: ${next}`);
}

/** Whether the driver acts with a user code of its own (INTEGRA, DSC), so the next command must ask for it. */
async function needsCode(cli: Cli, driver: string): Promise<boolean> {
  return (await cli.ctx.drivers.load(driver)).describe().secrets.some((s) => s.name === 'code' && s.required);
}
