import type { Command } from 'commander';

// Placeholder: this command group is being written.
export function registerBulk(_program: Command): void {}
