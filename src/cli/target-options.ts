import type { Command } from 'commander';

/** The flags every panel command takes to say which panel. */
export function addTargetOptions(command: Command): Command {
  return command
    .option('-p, --panel <name>', 'panel name from the inventory (or demo, demo-dsc, demo-modbus)')
    .option('--link <url>', 'ad hoc: tcp://HOST:PORT or serial:///dev/ttyUSB0?baud=19200')
    .option('--driver <name>', 'ad hoc: the driver for --link')
    .option('--secret-from <ref>', 'ad hoc: where the credential comes from: env:VAR, file:PATH or prompt');
}

export function parseSlot(text: string): number {
  return Number(text);
}

export function parsePartitions(text: string): number[] {
  return text.split(',').map((p) => Number(p.trim()));
}
