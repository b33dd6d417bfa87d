// The one build (`npm run build`; `npm ci` and `npm test` run it through prepare/pretest):
//  1. tsc type-checks and compiles every module to dist/src and dist/drivers (tests' child processes
//     and the bench scripts import single modules from there);
//  2. esbuild bundles the CLI into one CommonJS file, dist/bundle/cli/main.cjs, in which every module
//     reached through an import() (a command's action, a driver, a simulator) runs on first use, and
//     the third-party packages the path to a panel does not need into dist/bundle/cli/vendor/*.cjs;
//  3. runs of the demo panel's `users list`, without and with an inventory, write the V8 code caches
//     (scripts/code-cache.cjs) bin/load-bundle.js compiles with: main.cjs.cache for the bundle, and
//     vendor/NAME.cjs.cache for the vendored packages an inventory needs (js-yaml, zod) and a
//     terminal's spinner and colour (ora, chalk).
// bin/panelctl.js runs the bundle. The output depends only on the sources, the lockfile and the Node
// version (no timestamps, no absolute paths; the code cache is V8's and so Node's), so two builds of
// one commit with one Node are byte for byte the same.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
// Three levels deep on purpose: code that finds files beside the sources from import.meta.url
// (drivers/modbus/profile.ts: '../../../drivers/modbus/profiles/') resolves the same from
// dist/bundle/cli/ as from dist/drivers/modbus/.
const outdir = path.join(root, 'dist/bundle/cli');

if (!process.argv.includes('--bundle-only')) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
}

/**
 * A package's source with each of `edits` (line -> replacement) made: the build's few edits of third-party code
 * below. Each line must be there exactly once, or the build fails: a package that changed is looked at again.
 */
function editedOnce(file, source, edits) {
  for (const [line, edited] of Object.entries(edits)) {
    if (source.split(line).length !== 2) throw new Error(`${file}: expected "${line}" once; update scripts/build.mjs`);
    source = source.replace(line, () => edited);
  }
  return source;
}

/**
 * commander loads node:child_process when it is imported, for subcommands that are separate
 * executables (panelctl has none); that module drags in net, dgram and their bindings, a few ms
 * of every start-up. Load it on first use instead. The build fails if commander changes the line.
 */
const lazyChildProcessInCommander = {
  name: 'lazy-child-process-in-commander',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const source = editedOnce(args.path, await fs.promises.readFile(args.path, 'utf8'), {
        "const childProcess = require('node:child_process');": "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
      });
      return { contents: source, loader: 'js' };
    });
  },
};

/**
 * A spinner in a terminal (ora, in src/cli/context.ts) measures each frame with string-width, and its frames
 * are Braille dots (U+2800-U+28FF): that took string-width past its printable-ASCII fast path into ICU's
 * grapheme segmenter and a /^\p{RGI_Emoji}$/v expression, ~35 ms of CPU for the first frame, and it built
 * both when it loaded, used or not. A Braille pattern is a grapheme of its own, visible, neither emoji nor
 * mark, of East Asian width N: one column, as an ASCII character; so the fast path takes them too (the width
 * is the same: test/e2e/startup.e2e.test.ts compares every one with string-width's own answer), and the
 * segmenter and the expression are made on first use. The build fails if string-width changes these lines.
 */
const asciiAndBrailleFastInStringWidth = {
  name: 'ascii-and-braille-fast-in-string-width',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/ }, async (args) => {
      // The current string-width (ora's and ours), not an old copy nested under another package.
      if (args.path !== path.join(root, 'node_modules/string-width/index.js')) return undefined;
      const edits = {
        'const segmenter = new Intl.Segmenter();':
          'let segmenterMade; const segmenter = { segment: (text) => (segmenterMade ??= new Intl.Segmenter()).segment(text) };',
        'const rgiEmojiRegex = /^\\p{RGI_Emoji}$/v;':
          'let rgiEmojiMade; const rgiEmojiRegex = { test: (text) => (rgiEmojiMade ??= /^\\p{RGI_Emoji}$/v).test(text) };',
        'if (/^[\\u0020-\\u007E]*$/.test(string)) {': 'if (/^[\\u0020-\\u007E\\u2800-\\u28FF]*$/.test(string)) {',
      };
      const source = editedOnce(args.path, await fs.promises.readFile(args.path, 'utf8'), edits);
      // Used only as .segment() and .test(): anything else would need the real objects.
      if ((source.match(/\bsegmenter\./g) ?? []).length !== 1 || (source.match(/\brgiEmojiRegex\b/g) ?? []).length !== 2)
        throw new Error(`${args.path}: segmenter or rgiEmojiRegex used in a new way; update scripts/build.mjs`);
      return { contents: source, loader: 'js' };
    });
  },
};

/**
 * pg asks at load whether it runs in a Cloudflare Worker; on Node 20 (no `navigator`) that question constructs a
 * fetch Response, which loads Node's undici: ~16 ms of CPU on every command with team state. panelctl runs on
 * Node only (package.json engines), so pg takes its Node sockets without asking. The build fails if the line changes.
 */
const nodeStreamsInPg = {
  name: 'node-streams-in-pg',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const source = editedOnce(args.path, await fs.promises.readFile(args.path, 'utf8'), {
        'const { getStream, getSecureStream } = getStreamFuncs()': 'const { getStream, getSecureStream } = getNodejsStreamFuncs()',
      });
      return { contents: source, loader: 'js' };
    });
  },
};

/**
 * Third-party packages that the path to a panel does not need, each bundled into a file of its own
 * (dist/bundle/cli/vendor/NAME.cjs) that the CLI requires when it first uses it. In main.cjs they
 * would cost every start-up: V8 sets up each bundled module's wrapper when it compiles the file (or
 * reads them from the code cache), used or not.
 */
const VENDORED = [
  'zod',
  'yaml',
  'js-yaml',
  'pg',
  'selfsigned',
  '@inquirer/prompts',
  'ora',
  'csv-parse/sync',
  'csv-stringify/sync',
  'chalk',
  'proper-lockfile',
  'string-width',
  'p-limit',
];
// Native bindings and packages that find files of their own at run time stay in node_modules.
const EXTERNAL = ['serialport', 'modbus-serial', 'iconv-lite'];
const vendorFile = (name) => `./vendor/${name.replace(/^@/, '').replace(/\//g, '-')}.cjs`;

/**
 * An import of a vendored or external package goes through a small ES module of the bundle that
 * re-exports the required file. The bundle's own import() of it then becomes a require() on first use
 * (a native import() would need the ES loader), and the module is outside the `"type": "module"` tree,
 * so a default import means the package's default export (esbuild's non-Node interop), as it did when
 * the package was bundled in.
 */
const requiredPackages = {
  name: 'required-packages',
  setup(b) {
    b.onResolve({ filter: /^[@a-z]/ }, (args) => {
      if (args.namespace === 'required') return { path: args.path, external: true };
      if (VENDORED.includes(args.path)) return { path: vendorFile(args.path), namespace: 'required' };
      if (EXTERNAL.includes(args.path) || args.path.startsWith('@serialport/')) return { path: args.path, namespace: 'required' };
      return undefined;
    });
    b.onResolve({ filter: /^\.\/vendor\//, namespace: 'required' }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'required' }, (args) => ({
      contents: `export * from ${JSON.stringify(args.path)};\nexport { default } from ${JSON.stringify(args.path)};\n`,
      loader: 'js',
    }));
  },
};

/**
 * zod's vendor file holds the part of zod that the sources use (`z.object`, `z.string`...), as esbuild's tree
 * shaking did while zod was inside the bundle, not all of it (770 kB with its locales, 200 kB used): it is
 * loaded with every inventory. The names are read from the sources, so a new `z.tuple` is in the next build.
 */
async function zodAsUsed() {
  const zod = await import('zod');
  const used = new Set();
  for (const dir of ['src', 'drivers']) {
    for (const file of fs.readdirSync(path.join(root, dir), { recursive: true })) {
      const source = file.endsWith('.ts') ? fs.readFileSync(path.join(root, dir, file), 'utf8') : '';
      if (!/^import \* as z from 'zod';$/m.test(source)) continue;
      // The JavaScript, without the types: `z.infer<...>` and `z.core.$ZodIssue` need no code.
      const { code } = await transform(source, { loader: 'ts' });
      for (const match of code.matchAll(/\bz\.([A-Za-z_$][\w$]*)/g)) used.add(match[1]);
    }
  }
  const names = [...used].filter((name) => Object.hasOwn(zod, name)).sort();
  return {
    name: 'zod-as-used',
    setup(b) {
      b.onResolve({ filter: /^vendor-entry:zod$/ }, () => ({ path: 'zod', namespace: 'vendor-entry' }));
      // jitless: zod compiles a fast path for each object schema with new Function() on its first parse, code that no
      // code cache can hold, ~0.7 ms of the first inventory check; the checks and their messages are the same without.
      b.onLoad({ filter: /.*/, namespace: 'vendor-entry' }, () => ({
        contents: `import { config } from 'zod';\nconfig({ jitless: true });\nexport { ${names.join(', ')} } from 'zod';\n`,
        resolveDir: root,
        loader: 'js',
      }));
    },
  };
}

// import.meta.url in CommonJS: the bundle file's own URL (code that finds files beside it, see above).
const IMPORT_META_URL_BANNER = "const __panelctlImportMetaUrl = require('node:url').pathToFileURL(__filename).href;";
const common = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Source maps name files relative to the map, so they point at src/ wherever the tree lives.
  sourcesContent: false,
  outExtension: { '.js': '.cjs' },
  define: { __PANELCTL_VERSION__: JSON.stringify(pkg.version), 'import.meta.url': '__panelctlImportMetaUrl' },
  banner: { js: IMPORT_META_URL_BANNER },
  legalComments: 'none',
  logLevel: 'warning',
};

/** bin/load-bundle.js reads the bundle as latin1 (a third of UTF-8's cost), which is the same text only for ASCII. */
function asciiOnly(file) {
  const at = file.contents.findIndex((byte) => byte > 0x7f);
  if (at >= 0)
    throw new Error(`${file.path}: a non-ASCII byte at ${at} (${JSON.stringify(file.text.slice(Math.max(0, at - 40), at + 10))}); escape it in the source`);
  return file.text;
}

/**
 * esbuild gives each module that imports a Node built-in by default or namespace its own copy of the
 * built-in's namespace (`__toESM(require("node:fs"), 1)`: a getter per export, ~0.05 ms for fs or
 * process), some 50 copies on the way to a panel. One copy per built-in is what ES modules have
 * anyway (one namespace per module).
 *
 * And a module's imports run when the module is first initialised, used or not: node:crypto (1.3 ms
 * of CPU to load: ciphers, keys, X.509...) came with the code policy, the lock files and the safe
 * file writer, node:fs/promises (1-2 ms: it loads readline) with a dozen modules, on every command's
 * way to a panel, where most of them are never called. The built-ins in ON_FIRST_USE are instead
 * required when a property of theirs is first read: `(0, import_node_crypto.randomBytes)(6)` reads
 * `randomBytes` from a stand-in that requires node:crypto then (a Proxy: any name the running Node
 * has, whatever Node built the bundle). A module whose top level calls one still loads it there.
 *
 * Every line stays where it was and a call is padded to its old length, so the source map still
 * points at the right lines and columns.
 */
const ON_FIRST_USE = [
  'child_process',
  'crypto',
  'dgram',
  'dns',
  'fs/promises',
  'http',
  'https',
  'module',
  'net',
  'os',
  'readline',
  'tls',
  'tty',
  'v8',
  'worker_threads',
  'zlib',
].map((name) => `node:${name}`);
function builtinsOnFirstUse(text) {
  const helper = 'var __toESM = ';
  if (!text.includes(helper)) throw new Error(`main.cjs: expected esbuild's "${helper}"; update scripts/build.mjs`);
  const shared = text.replace(/__toESM\(require\(("node:[^"]+")\), 1\)/g, (call, id) => `__builtinNs(${id})`.padEnd(call.length, ' '));
  const lazy = shared.replace(/(\bimport_\w+ = )require\(("node:[^"]+")\)/g, (line, binding, id) =>
    ON_FIRST_USE.includes(JSON.parse(id)) ? `${binding}__onUse(${id})`.padEnd(line.length, ' ') : line,
  );
  // __onUse(id): the module's exports; __builtinNs(id): its namespace (`default` is the module), as __toESM made it.
  const helpers = [
    `var __onFirstUse = new Set(${JSON.stringify(ON_FIRST_USE)}), __builtinNamespaces = {};`,
    'var __onUse = (id, ns) => { let mod; const get = () => (mod ??= require(id)); return new Proxy({}, { get: (_, key) => (ns && key === "default" ? get() : get()[key]), has: (_, key) => key in get() }); };',
    'var __builtinNs = (id) => __builtinNamespaces[id] ??= __onFirstUse.has(id) ? __onUse(id, true) : __toESM(require(id), 1);',
  ];
  return lazy.replace(helper, `${helpers.join(' ')} ${helper}`);
}

// Stale files from an earlier build must not linger next to the new ones.
fs.rmSync(outdir, { recursive: true, force: true });
// One CommonJS file for the CLI: no ES module loader, no chunk to resolve and read per import. esbuild
// wraps each module that is reached through an import() so that it runs on first use, as a chunk did.
const bundle = await build({ ...common, entryPoints: { main: 'src/cli/main.ts' }, plugins: [requiredPackages, lazyChildProcessInCommander], write: false });
fs.mkdirSync(outdir, { recursive: true });
for (const file of bundle.outputFiles) fs.writeFileSync(file.path, file.path.endsWith('.cjs') ? builtinsOnFirstUse(asciiOnly(file)) : file.contents);
await build({
  ...common,
  entryPoints: Object.fromEntries(VENDORED.map((name) => [vendorFile(name).slice(2, -4), name === 'zod' ? 'vendor-entry:zod' : name])),
  external: EXTERNAL,
  plugins: [await zodAsUsed(), asciiAndBrailleFastInStringWidth, nodeStreamsInPg],
});
// `panelctl --version` and `panelctl --help` alone, which bin/panelctl.js answers without loading the
// CLI: the help is what the bundle just built prints for --help when stdout is not a terminal (80
// columns; see bin/panelctl.js), so it cannot differ from it (test/e2e/startup.e2e.test.ts).
fs.writeFileSync(path.join(outdir, 'answers.json'), `${JSON.stringify({ version: pkg.version, help: helpOfBundle() }, null, 2)}\n`);
writeCodeCache();

/** The code caches, from runs of the demo panel's `users list` in a sandbox of its own (scripts/code-cache.cjs). */
function writeCodeCache() {
  const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'panelctl-build-'));
  try {
    const env = {
      PATH: process.env.PATH,
      HOME: sandbox,
      PANELCTL_STATE_DIR: path.join(sandbox, 'state'),
      PANELCTL_DEMO_DIR: path.join(sandbox, 'demo'),
      NO_COLOR: '1',
    };
    const script = path.join(root, 'scripts/code-cache.cjs');
    const result = spawnSync(process.execPath, ['--random-seed=1', script, sandbox], { encoding: 'utf8', env, stdio: 'pipe' });
    const caches = [
      'main.cjs.cache',
      'vendor/js-yaml.cjs.cache',
      'vendor/zod.cjs.cache',
      'vendor/ora.cjs.cache',
      'vendor/chalk.cjs.cache',
      'vendor/pg.cjs.cache',
    ];
    if (result.status !== 0 || result.stderr || !caches.every((cache) => fs.existsSync(path.join(outdir, cache)))) {
      throw new Error(`the code caches' runs of the demo panel exited ${result.status} (${caches.join(', ')} expected): ${result.stderr}`);
    }
  } finally {
    fs.rmSync(sandbox, { recursive: true, force: true });
  }
}

function helpOfBundle() {
  const script = `require(${JSON.stringify(path.join(outdir, 'main.cjs'))}).main(['node', 'panelctl', '--help']);`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH }, stdio: 'pipe' });
  if (result.status !== 0 || result.stderr || !result.stdout.startsWith('Usage: panelctl')) {
    throw new Error(`panelctl --help from the bundle exited ${result.status}: ${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}
