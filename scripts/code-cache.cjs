// Writes the V8 code caches bin/load-bundle.js compiles with (scripts/build.mjs runs this after
// bundling): dist/bundle/cli/main.cjs.cache for the bundle, and vendor/NAME.cjs.cache for each vendored
// package the trained runs load. It runs the common paths in a private sandbox, then asks V8 for the
// compiled code: a cache then holds the functions those paths run, so a start-up neither parses the file
// nor compiles them again. The paths: the demo panel's `users list` without an inventory, and the same
// with an inventory, as a support desk always has one (js-yaml reads it, zod checks it); and what a
// terminal adds to them, the spinner (ora) and colour (chalk), which the runs here,
// with no terminal, do not load: they are loaded and used as src/cli/context.ts and src/output/palette.ts do;
// and pg, which a desk on team state loads for every command (its module's top level and a client).
//
// Run as `node --random-seed=1 scripts/code-cache.cjs`: V8 derives its string hash seed from the random
// seed, and the cache holds hashes, so a fixed seed makes two builds write the same bytes. The flag
// does not change the cache's flag hash (V8 accepts the cache without it), and it is this process's
// only: panelctl itself runs with a random seed.
const fs = require('node:fs');
const path = require('node:path');
const { PassThrough } = require('node:stream');
const { loadBundle, loadVendored, scripts, CACHE, VENDOR } = require('../bin/load-bundle.js');

const [, , sandbox] = process.argv;
if (!sandbox || process.env.PANELCTL_DEMO_DIR !== path.join(sandbox, 'demo')) {
  throw new Error('run by scripts/build.mjs with a sandbox directory and an environment of its own');
}
fs.rmSync(CACHE, { force: true });
for (const file of fs.readdirSync(VENDOR)) if (file.endsWith('.cache')) fs.rmSync(path.join(VENDOR, file));
const { cli } = loadBundle({ useCache: false });
const demo = ['node', 'panelctl', 'users', 'list', '--panel', 'demo', '-o', 'json'];
// A desk's inventory, in the shape of the bench's (bench/startup.mjs): panels with a link and a secret reference.
const inventory = path.join(sandbox, 'inventory.yaml');
const panels = Array.from({ length: 5 }, (_, i) => `  site-${i}: { driver: integra, link: "tcp://10.0.0.${i + 1}:7094", secret: env:PANEL_CODE }`);
fs.writeFileSync(inventory, `panels:\n${panels.join('\n')}\n`);
(async () => {
  // Twice: the first run makes the demo panel's state file; the second, as the binary runs it (main), is every later run.
  const first = await cli.run(demo);
  await cli.main(demo);
  if (first !== 0 || process.exitCode !== 0) throw new Error(`the demo panel's users list exited ${first}, then ${process.exitCode}`);
  process.env.PANELCTL_INVENTORY = inventory;
  const withInventory = await cli.run(demo);
  if (withInventory !== 0) throw new Error(`the demo panel's users list with an inventory exited ${withInventory}`);
  // A spinner on a terminal's stderr (a stand-in stream: the build has no terminal), and colour at level 1.
  const terminal = Object.assign(new PassThrough(), { isTTY: true, columns: 80, cursorTo() {}, clearLine() {}, moveCursor() {} });
  const spinner = loadVendored('ora.cjs', { useCache: false }).default({ text: '', stream: terminal, discardStdin: false, isEnabled: true }).start();
  spinner.text = 'reading users';
  spinner.stop();
  const { Chalk } = loadVendored('chalk.cjs', { useCache: false });
  new Chalk({ level: 1 }).red.bold('refused');
  // Team state (PostgreSQL): pg's client as src/state/postgres/connection.ts makes it, without a server to reach.
  const pg = loadVendored('pg.cjs', { useCache: false });
  const config = { connectionString: 'postgres://panelctl@127.0.0.1:1/panelctl', statement_timeout: 1000 };
  new pg.Client(config);
  new pg.Pool({ ...config, max: 4 }).end();
  pg.types.getTypeParser(3802)('{"lease":"x"}');
  for (const [file, script] of scripts) fs.writeFileSync(`${file}.cache`, script.createCachedData());
})();
