import { capabilitiesOf } from '../../core/contract.js';
import { panelInfo } from '../../operations/users.js';
import { allTargets, matchesSelector } from '../../inventory/targets.js';
import { demoPanelNames, demoTarget } from '../../inventory/demo.js';
import type { Cli, TargetFlags } from '../context.js';

export async function runInfo(cli: Cli, flags: TargetFlags): Promise<void> {
  const target = await cli.target(flags);
  const info = await panelInfo(target, cli.ctx);
  const document = { panel: target.name, ...info };
  if (cli.out.machine) return cli.out.result(document, undefined, undefined);
  const rows: Array<[string, string | undefined]> = [
    ['Panel', `${target.name}${target.description ? ` (${target.description})` : ''}`],
    ['Driver', info.driver],
    ['Model', info.model],
    ['Firmware', info.firmware],
    ['Module', info.module],
    ['User slots', info.slotRanges.map((r) => `${r.from}-${r.to} ${r.kind}`).join(', ')],
    ['Code length', `${info.codeRules.allowedLengths?.join(' or ') ?? `${info.codeRules.minLength}-${info.codeRules.maxLength}`} digits`],
    ['Can do', info.capabilities.join(', ')],
    ...Object.entries(info.details ?? {}).map(([k, v]): [string, string] => [k[0].toUpperCase() + k.slice(1), String(v)]),
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  cli.out.say(
    rows
      .filter(([, value]) => value !== undefined)
      .map(([label, value]) => `${cli.out.color.bold(label.padEnd(width))}${value}`)
      .join('\n'),
  );
}

export async function runPanels(cli: Cli, flags: { limit?: string; demo?: boolean }): Promise<void> {
  const inventory = allTargets(await cli.inventory());
  // The demo panels are for trying panelctl out: listed with no inventory (the README's quick start)
  // or with --demo, not among a company's real panels. They always work by name (--panel demo).
  const demos = flags.demo || inventory.length === 0 ? demoPanelNames.map(demoTarget) : [];
  const targets = [...inventory, ...demos].filter((t) => matchesSelector(t, flags.limit));
  const { listLeases, isOverdue } = await import('../../state/leases.js');
  const leases = new Map((await listLeases(cli.ctx.stateDir)).map((lease) => [lease.panel, lease]));
  const testState = (name: string) => {
    const lease = leases.get(name);
    return lease ? (isOverdue(lease) ? 'overdue' : 'on test') : null;
  };
  const rows = targets.map((t) => ({
    name: t.name,
    driver: t.driver,
    link: t.demo ? 'built-in simulator' : t.link.url,
    account: t.account ?? null,
    customer: t.customer ?? null,
    tags: t.tags,
    description: t.description ?? null,
    test: testState(t.name),
  }));
  cli.out.result({ panels: rows }, rows, [
    { header: 'NAME', value: (r) => r.name },
    { header: 'DRIVER', value: (r) => r.driver },
    { header: 'LINK', value: (r) => r.link },
    { header: 'ACCOUNT', value: (r) => r.account ?? '' },
    { header: 'CUSTOMER', value: (r) => r.customer ?? '' },
    {
      header: 'TAGS',
      value: (r) =>
        Object.entries(r.tags)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
    },
    { header: 'TEST', value: (r) => (r.test === 'overdue' ? cli.out.color.red.bold('OVERDUE') : r.test === 'on test' ? cli.out.color.yellow('ON TEST') : '') },
  ]);
}

export async function runDrivers(cli: Cli): Promise<void> {
  // `capabilities` stays in the JSON (derived from the facets, which are shown too).
  const rows = await Promise.all(
    cli.ctx.drivers.names.map(async (name) => {
      const info = (await cli.ctx.drivers.load(name)).describe();
      return { ...info, capabilities: capabilitiesOf(info.facets) };
    }),
  );
  cli.out.result({ drivers: rows }, rows, [
    { header: 'DRIVER', value: (d) => d.name },
    { header: 'TITLE', value: (d) => d.title },
    { header: 'LINKS', value: (d) => d.transports.join(',') },
    {
      header: 'DEFAULTS',
      value: (d) =>
        [
          d.defaultTcpPort && `tcp ${d.defaultTcpPort}`,
          d.defaultSerial && `${d.defaultSerial.baudRate} ${d.defaultSerial.dataBits}${d.defaultSerial.parity[0].toUpperCase()}${d.defaultSerial.stopBits}`,
        ]
          .filter(Boolean)
          .join(', '),
    },
    { header: 'CAPABILITIES', value: (d) => d.capabilities.join(' ') },
  ]);
}
