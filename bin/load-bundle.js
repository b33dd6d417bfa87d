// Loads the bundled CLI (dist/bundle/cli/main.cjs) as Node's require() would, but compiled with the
// V8 code cache that the build wrote beside it (main.cjs.cache, see scripts/build.mjs), so that
// V8 neither parses the bundle nor compiles the functions of the common path again at every start.
// The vendored packages the bundle requires (dist/bundle/cli/vendor/NAME.cjs: zod and js-yaml with
// every inventory) are loaded the same way, each with its own NAME.cjs.cache where the build wrote one.
// Node 20 has no compile cache of its own (module.enableCompileCache is Node 22).
//
// V8 checks a cache against the source's length, its own version and its flags, and ignores a
// cache that does not match (the file then compiles as usual, only slower). The caches are read
// only from dist/, which the build writes, never from a place a user or another program writes to.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

// require('node:module') would load Node's ES module loader with it: the class is at hand here.
const Module = module.constructor;
const BUNDLE = path.join(__dirname, '../dist/bundle/cli/main.cjs');
const CACHE = `${BUNDLE}.cache`;
const VENDOR = path.join(path.dirname(BUNDLE), 'vendor');
/** Every file this loader compiled, with its vm.Script (the build asks each for its cache). */
const scripts = new Map();

/** The bundle's exports and the vm.Script it ran in. */
function loadBundle({ useCache = true } = {}) {
  // The build checks that the bundle is ASCII, where latin1 reads the same text as UTF-8, at a third of the cost.
  const bundle = compiled(BUNDLE, fs.readFileSync(BUNDLE, 'latin1'), module, useCache);
  const plain = Module.createRequire(BUNDLE);
  // The bundle requires a vendored package as "./vendor/NAME.cjs" (scripts/build.mjs): that one is compiled
  // with its cache too; anything else is require()'s. The bundle's own require() resolves from dist/bundle/cli/.
  const require = (id) => (id.startsWith('./vendor/') ? vendored(path.join(VENDOR, id.slice(9)), bundle, useCache, plain) : plain(id));
  Object.assign(require, { resolve: plain.resolve, cache: plain.cache, main: plain.main, extensions: plain.extensions });
  run(bundle, require);
  return { cli: bundle.module.exports, script: bundle.script };
}

/** A vendored package by file name (the build trains its cache with it; the bundle requires "./vendor/NAME.cjs"). */
function loadVendored(name, { useCache = true } = {}) {
  return vendored(path.join(VENDOR, name), { module }, useCache, Module.createRequire(BUNDLE));
}

/** A vendored package, once (require()'s cache, as require() would); a file missing from dist/ is require()'s error. */
function vendored(file, parent, useCache, plain) {
  const loaded = Module._cache[file];
  if (loaded) return loaded.exports;
  let source;
  try {
    // Vendored packages may hold non-ASCII text (js-yaml's, zod's): read as UTF-8, as require() would.
    source = fs.readFileSync(file, 'utf8');
  } catch {
    return plain(file);
  }
  const vendor = compiled(file, source, parent.module, useCache);
  try {
    run(vendor, Module.createRequire(file));
  } catch (error) {
    delete Module._cache[file]; // as require() does: a module that threw is loaded afresh next time
    throw error;
  }
  return vendor.module.exports;
}

/** A CommonJS module of `file`, compiled from its source with its cache, and placed in require()'s cache. */
function compiled(file, source, parent, useCache) {
  const cachedData = useCache ? readCache(`${file}.cache`) : undefined;
  // Node's own CommonJS wrapper (Module.wrap), so the cache fits a file run by require() too.
  const script = new vm.Script(`${Module.wrapper[0]}${source}${Module.wrapper[1]}`, { filename: file, cachedData });
  const compiledModule = new Module(file, parent);
  compiledModule.filename = file;
  compiledModule.paths = Module._nodeModulePaths(path.dirname(file));
  // As require() does: in its cache before it runs (a cycle gets the exports so far).
  Module._cache[file] = compiledModule;
  scripts.set(file, script);
  return { module: compiledModule, script };
}

function run({ module: compiledModule, script }, require) {
  const file = compiledModule.filename;
  script.runInThisContext().call(compiledModule.exports, compiledModule.exports, require, compiledModule, file, path.dirname(file));
  compiledModule.loaded = true;
}

function readCache(file) {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined; // not built yet, or removed: compile without it
  }
}

module.exports = { loadBundle, loadVendored, scripts, BUNDLE, CACHE, VENDOR };
