// Loaded with `node --import` by the start-up tests: records what a command loads, for assertions
// that do not depend on timing. Writes to $RECORD_LOADS at exit, one line per item:
//   builtin <name>   a Node built-in module the process loaded (process.moduleLoadList)
//   file <url>       a JavaScript file the ESM loader read
//   source <path>    a source module inside a bundled file (esbuild's "// path" headers)
//   cjs <path>       a CommonJS file loaded with require()
import { createRequire, register } from 'node:module';
import fs from 'node:fs';

const out = process.env.RECORD_LOADS;
if (out) {
  register(new URL('./record-loads-hooks.mjs', import.meta.url), { data: { out } });
  process.on('exit', () => {
    const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `builtin ${m.slice(13)}`);
    const cjs = Object.keys(createRequire(import.meta.url).cache).map((file) => `cjs ${file}`);
    fs.appendFileSync(out, `${[...builtins, ...cjs].join('\n')}\n`);
  });
}
