#!/usr/bin/env node
// The executable: runs the bundled CLI (`npm run build`, which `npm ci` runs, writes dist/; see scripts/build.mjs).
//
// CommonJS on purpose (bin/package.json): Node starts a CommonJS entry point without its ES module
// loader, about 5 ms less, so the answers that need no code at all cost about what `node -e 0`
// costs. Those are the version and the top-level help, both written at build time by running the
// bundle itself (dist/bundle/cli/answers.json); everything else is the bundled CLI's.
const args = process.argv.slice(2);
const answer = args.length === 1 ? prebuiltAnswer(args[0]) : undefined;

if (answer !== undefined) {
  // `panelctl --help | head -1`: a reader that leaves early is not an error (as in the CLI, src/cli/main.ts).
  process.stdout.on('error', (error) => {
    if (error.code !== 'EPIPE') process.exitCode = 1;
  });
  process.stdout.write(answer);
} else {
  let cli;
  try {
    // With PANELCTL_DEBUG set, stack traces point at src/ through the bundle's source maps (off
    // otherwise: reading the maps costs start-up time); Node's require() reads them, without the
    // code cache.
    if (process.env.PANELCTL_DEBUG) {
      process.setSourceMapsEnabled(true);
      cli = require('../dist/bundle/cli/main.cjs');
    } else {
      cli = require('./load-bundle.js').loadBundle().cli;
    }
  } catch (error) {
    notBuilt(error);
  }
  cli.main(process.argv);
}

/** The build's answer to `panelctl ARG`, when it is exactly what the CLI would print. */
function prebuiltAnswer(arg) {
  if (arg === '--version' || arg === '-V') return `${answers().version}\n`;
  // Commander wraps help to the terminal's width, and to 80 columns when stdout is not a terminal:
  // the prebuilt text is the 80-column one. Another width takes the CLI's own path.
  if (arg === '--help' || arg === '-h') return ((process.stdout.isTTY ? process.stdout.columns : undefined) ?? 80) === 80 ? answers().help : undefined;
  return undefined;
}

function answers() {
  try {
    return require('../dist/bundle/cli/answers.json');
  } catch (error) {
    notBuilt(error);
  }
}

function notBuilt(error) {
  if (error?.code !== 'MODULE_NOT_FOUND' && error?.code !== 'ENOENT') throw error;
  process.stderr.write(
    `panelctl: dist/ is missing or incomplete (${error.message.split('\n')[0]}); run "npm install" or "npm run build" in ${require('node:path').resolve(__dirname, '..')}\n`,
  );
  process.exit(1);
}
