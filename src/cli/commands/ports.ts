import type { Command } from 'commander';
import { lazyAction } from '../lazy.js';

const run = (name: string, interruptible = false) => lazyAction(() => import('../actions/ports.js'), name, { interruptible });

export function registerPorts(program: Command): void {
  program
    .command('ports')
    .description('list serial ports (path, manufacturer, serial number, USB vendor:product)')
    .action(run('runPorts'));
  program
    .command('probe')
    .description('find out which panel protocol answers on a link, without writing anything')
    .argument('<link>', 'serial:///dev/ttyUSB0, COM3, or tcp://host[:port]')
    .action(run('runProbe', true));
}
