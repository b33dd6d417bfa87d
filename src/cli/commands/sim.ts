import type { Command } from 'commander';
import { lazyAction } from '../lazy.js';

export function registerSim(program: Command): void {
  program
    .command('sim')
    .description('run a driver\'s panel simulator as a server (TCP or a serial device), for demos, rehearsal and tests')
    .argument('<driver>', 'integra, dsc or modbus')
    .option('--listen <host:port>', 'serve on TCP, e.g. 127.0.0.1:7094')
    .option('--serial <device>', 'serve on a serial device, e.g. /dev/pts/5')
    .option('--baud <rate>', 'serial baud rate (default: the driver\'s)')
    .option('--pace', 'pace serial output at the baud rate (pseudo-terminals are otherwise instant)')
    .option('--state <file>', 'load and save the simulated panel\'s memory in this JSON file')
    .option('--users <n>', 'seed this many users when starting empty')
    .option('--set <key=value>', 'simulator option or fault (repeatable), e.g. latencyMs=200, dropReplies=1', (v: string, all: string[]) => [...all, v], [])
    .option('--show-credentials', 'print the simulated panel\'s credentials (its own test codes) on stderr')
    .action(lazyAction(() => import('../actions/sim.js'), 'runSim'));
}
