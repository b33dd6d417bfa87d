#!/usr/bin/env node
// The executable: runs the bundled CLI (`npm run build`, which `npm ci` runs, writes dist/; see scripts/build.mjs).
import { version } from '../dist/bundle/cli/version.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // Scripts ask for the version often; it needs neither commander nor the command tree.
  process.stdout.write(`${version}\n`);
} else {
  // With PANELCTL_DEBUG set, stack traces point at src/ through the bundle's source maps (off
  // otherwise: reading the maps costs start-up time).
  if (process.env.PANELCTL_DEBUG) process.setSourceMapsEnabled(true);
  const { main } = await import('../dist/bundle/cli/main.js');
  main(process.argv);
}
