// Writes dist/bundle/cli/main.cjs.cache, the V8 code cache bin/load-bundle.js compiles the bundle
// with (scripts/build.mjs runs this after bundling). It runs the common path, the demo panel's
// `users list`, in a private sandbox, then asks V8 for the compiled code: the cache then holds the
// functions that path runs, so a start-up neither parses the bundle nor compiles them again.
//
// Run as `node --random-seed=1 scripts/code-cache.cjs`: V8 derives its string hash seed from the random
// seed, and the cache holds hashes, so a fixed seed makes two builds write the same bytes. The flag
// does not change the cache's flag hash (V8 accepts the cache without it), and it is this process's
// only: panelctl itself runs with a random seed.
const fs = require('node:fs');
const path = require('node:path');
const { loadBundle, CACHE } = require('../bin/load-bundle.js');

const [, , sandbox] = process.argv;
if (!sandbox || process.env.PANELCTL_DEMO_DIR !== path.join(sandbox, 'demo')) {
  throw new Error('run by scripts/build.mjs with a sandbox directory and an environment of its own');
}
fs.rmSync(CACHE, { force: true });
const { cli, script } = loadBundle({ useCache: false });
const demo = ['node', 'panelctl', 'users', 'list', '--panel', 'demo', '-o', 'json'];
(async () => {
  // Twice: the first run makes the demo panel's state file; the second, as the binary runs it (main), is every later run.
  const first = await cli.run(demo);
  await cli.main(demo);
  if (first !== 0 || process.exitCode !== 0) throw new Error(`the demo panel's users list exited ${first}, then ${process.exitCode}`);
  fs.writeFileSync(CACHE, script.createCachedData());
})();
