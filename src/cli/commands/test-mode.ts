import type { Command } from 'commander';

// Placeholder: this command group is being written.
export function registerTestMode(_program: Command): void {}
