#!/usr/bin/env node
// The executable: runs the bundled CLI (`npm run build`, which `npm ci` runs, writes dist/; see scripts/build.mjs).
// With PANELCTL_DEBUG set, stack traces point at src/ through the bundle's source maps (off otherwise:
// reading the maps costs start-up time).
if (process.env.PANELCTL_DEBUG) process.setSourceMapsEnabled(true);
const { main } = await import('../dist/bundle/cli/main.js');
main(process.argv);
