import type { Command } from 'commander';

// Placeholder: this command group is being written.
export function registerShell(_program: Command): void {}
