import type { Command } from 'commander';
import { lazyAction } from '../lazy.js';
import { withExamples } from './examples.js';

export function registerSim(program: Command): void {
  const sim = program
    .command('sim')
    .description("run a driver's panel simulator as a server (TCP or a serial device), for demos, rehearsal and tests")
    .argument('<driver>', 'integra, dsc or modbus')
    .option('--listen <host:port>', 'serve on TCP (or HTTPS, for a panel with a web interface), e.g. 127.0.0.1:7094')
    .option('--serial <device>', 'serve on a serial device, e.g. /dev/pts/5')
    .option('--baud <rate>', "serial baud rate (default: the driver's)")
    .option('--pace', 'pace serial output at the baud rate (pseudo-terminals are otherwise instant)')
    .option('--state <file>', "load and save the simulated panel's memory in this JSON file")
    .option('--users <n>', 'seed this many users when starting empty')
    .option('--set <key=value>', 'simulator option or fault (repeatable), e.g. latencyMs=200, dropReplies=1', (v: string, all: string[]) => [...all, v], [])
    .option('--show-credentials', "print the simulated panel's credentials (its own test codes) on stderr");
  withExamples(
    sim,
    'panelctl sim integra --listen 127.0.0.1:7094 --show-credentials',
    'panelctl sim modbus --listen 127.0.0.1:1502 --set latencyMs=200',
    'panelctl sim dsc --serial /dev/pts/5 --pace',
  ).action(lazyAction(async () => (await import('../actions/sim.js')).runSim));
}
