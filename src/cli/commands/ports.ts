import type { Command } from 'commander';
import { lazyActions } from '../lazy.js';
import { withExamples } from './examples.js';

const run = lazyActions(() => import('../actions/ports.js'));

export function registerPorts(program: Command): void {
  withExamples(
    program
      .command('ports')
      .description('list serial ports (path, manufacturer, serial number, USB vendor:product)')
      .option('--all', 'also list pseudo-terminals (/dev/pts/*), e.g. the ends of a socat pair for a rehearsal'),
    'panelctl ports',
    'panelctl ports --all',
  ).action(run((m) => m.runPorts));
  withExamples(
    program
      .command('probe')
      .description('find out which panel protocol answers on a link, without writing anything')
      .argument('<link>', 'serial:///dev/ttyUSB0, COM3, tcp://host[:port] or https://host[:port]'),
    'panelctl probe serial:///dev/ttyUSB0',
    'panelctl probe tcp://10.20.0.15',
  ).action(run((m) => m.runProbe, { interruptible: true }));
}
