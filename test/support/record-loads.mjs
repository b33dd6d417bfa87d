// Loaded with `node --import` by the start-up tests: records what a command loads, for assertions
// that do not depend on timing. Writes to $RECORD_LOADS at exit, one line per item:
//   builtin <name>   a Node built-in module the process loaded (process.moduleLoadList)
//   file <url>       a JavaScript file the ESM loader read
//   source <path>    a source module that ran: inside an ES module file the loader read (esbuild's "// path"
//                    headers), or inside the CommonJS bundle (dist/bundle/cli/main.cjs): one that esbuild
//                    left unwrapped (it runs when the bundle loads), or whose wrapper was called (V8 coverage)
//   cjs <path>       a CommonJS file loaded with require() (or placed in require's cache, as bin/load-bundle.js does)
import { createRequire, register } from 'node:module';
import fs from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env.RECORD_LOADS;
if (out) {
  register(new URL('./record-loads-hooks.mjs', import.meta.url), { data: { out } });
  // Function-level call counts for every script from here on (the inspector answers synchronously in-thread).
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  process.on('exit', () => {
    const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `builtin ${m.slice(13)}`);
    const cjs = Object.keys(createRequire(import.meta.url).cache).map((file) => `cjs ${file}`);
    let coverage = [];
    session.post('Profiler.takePreciseCoverage', (error, result) => {
      if (!error) coverage = result.result;
    });
    const sources = coverage.filter((script) => /[\\/]dist[\\/]bundle[\\/]cli[\\/]main\.cjs$/.test(script.url)).flatMap(bundleSourcesRun);
    fs.appendFileSync(out, `${[...builtins, ...cjs, ...sources.map((s) => `source ${s}`)].join('\n')}\n`);
  });
}

/** The source modules of the CommonJS bundle that ran: esbuild names each lazy module's wrapper after its path. */
function bundleSourcesRun(script) {
  const text = fs.readFileSync(script.url.startsWith('file:') ? new URL(script.url) : script.url, 'utf8');
  const headers = (text.match(/^\/\/ (src|drivers|node_modules)\/\S+/gm) ?? []).map((h) => h.slice(3));
  const wrapped = new Set((text.match(/^ {2}"(?:src|drivers|node_modules)\/[^"]+"\(/gm) ?? []).map((w) => w.slice(3, -2)));
  const called = new Set(script.functions.filter((f) => wrapped.has(f.functionName) && f.ranges[0].count > 0).map((f) => f.functionName));
  return [...new Set(headers.filter((h) => !wrapped.has(h) || called.has(h)))];
}
