import { NotSupportedError } from '../../core/errors.js';
import { parseLink } from '../../core/link.js';
import { listPorts } from '../../transport/ports.js';
import { probe } from '../../operations/probe.js';
import type { Cli } from '../context.js';

export async function runPorts(cli: Cli): Promise<void> {
  const listing = await listPorts();
  const rows = listing.ports.map((p) => ({ ...p, usb: p.vendorId ? `${p.vendorId}:${p.productId ?? '?'}` : undefined }));
  cli.out.result({ source: listing.source, fallbackReason: listing.fallbackReason ?? null, ports: listing.ports }, rows, [
    { header: 'PATH', value: (p) => p.path },
    { header: 'USB ID', value: (p) => p.usb ?? '' },
    { header: 'MANUFACTURER', value: (p) => p.manufacturer ?? '' },
    { header: 'SERIAL', value: (p) => p.serialNumber ?? '' },
    { header: 'BY-ID', value: (p) => p.byId ?? '' },
  ]);
  cli.out.note(
    listing.source === 'sysfs'
      ? `source: the kernel's /sys/class/tty (the serialport library could not list: ${listing.fallbackReason})`
      : 'source: the serialport library',
  );
}

export async function runProbe(cli: Cli, linkText: string): Promise<void> {
  const link = parseLink(linkText, 'link');
  const outcome = await probe(link, { timeoutMs: cli.ctx.timeoutMs > 3000 ? 2000 : cli.ctx.timeoutMs, signal: cli.ctx.signal });
  cli.out.result({ answered: outcome.answered ?? null, attempts: outcome.attempts }, outcome.attempts, [
    { header: 'DRIVER', value: (a) => a.driver },
    { header: 'TRIED', value: (a) => a.link },
    { header: 'RESULT', value: (a) => (a.outcome === 'answered' ? cli.out.color.green('answered') : `${a.outcome}${a.detail ? `: ${a.detail}` : ''}`) },
  ]);
  if (!outcome.answered) throw new NotSupportedError(`no known panel protocol answered on ${link.url}`, { hint: 'check the cable, the module\'s settings (INT-RS function 2, IT-100 baud rate) and the link' });
  cli.out.say(`${cli.out.color.green('✓')} ${outcome.answered.model}${outcome.answered.firmware ? ` (firmware ${outcome.answered.firmware})` : ''} answered the ${outcome.answered.driver} protocol on ${outcome.answered.link}`);
}
