// Loads the bundled CLI (dist/bundle/cli/main.cjs) as Node's require() would, but compiled with the
// V8 code cache that the build wrote beside it (main.cjs.cache, see scripts/build.mjs), so that
// V8 neither parses the bundle nor compiles the functions of the common path again at every start.
// Node 20 has no compile cache of its own (module.enableCompileCache is Node 22).
//
// V8 checks the cache against the source's length, its own version and its flags, and ignores a
// cache that does not match (the bundle then compiles as usual, only slower). The cache is read
// only from dist/, which the build writes, never from a place a user or another program writes to.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

// require('node:module') would load Node's ES module loader with it: the class is at hand here.
const Module = module.constructor;
const BUNDLE = path.join(__dirname, '../dist/bundle/cli/main.cjs');
const CACHE = `${BUNDLE}.cache`;

/** The bundle's exports and the vm.Script it ran in (the build asks the script for its cache). */
function loadBundle({ useCache = true } = {}) {
  // The build checks that the bundle is ASCII, where latin1 reads the same text as UTF-8, at a third of the cost.
  const source = fs.readFileSync(BUNDLE, 'latin1');
  const cachedData = useCache ? readCache() : undefined;
  // Node's own CommonJS wrapper (Module.wrap), so the cache fits a bundle run by require() too.
  const script = new vm.Script(`${Module.wrapper[0]}${source}${Module.wrapper[1]}`, { filename: BUNDLE, cachedData });
  const bundle = new Module(BUNDLE, module);
  bundle.filename = BUNDLE;
  bundle.paths = Module._nodeModulePaths(path.dirname(BUNDLE));
  // As require() does: the bundle's own require() resolves from dist/bundle/cli/ (vendor/, node_modules).
  Module._cache[BUNDLE] = bundle;
  script.runInThisContext().call(bundle.exports, bundle.exports, Module.createRequire(BUNDLE), bundle, BUNDLE, path.dirname(BUNDLE));
  bundle.loaded = true;
  return { cli: bundle.exports, script };
}

function readCache() {
  try {
    return fs.readFileSync(CACHE);
  } catch {
    return undefined; // not built yet, or removed: compile without it
  }
}

module.exports = { loadBundle, BUNDLE, CACHE };
