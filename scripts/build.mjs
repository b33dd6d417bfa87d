// The one build (`npm run build`; `npm ci` and `npm test` run it through prepare/pretest):
//  1. tsc type-checks and compiles every module to dist/src and dist/drivers (tests' child processes
//     and the bench scripts import single modules from there);
//  2. esbuild bundles the CLI into dist/bundle/cli/: one ESM file for the path every command takes,
//     and a lazy chunk for each dynamic import (a command's action, a driver, a simulator, prompts),
//     so `panelctl --help` reads one file instead of dozens. bin/panelctl.js runs the bundle.
// The output depends only on the sources and the lockfile (no timestamps, no absolute paths), so two
// builds of one commit are byte for byte the same.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

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
 * commander loads node:child_process when it is imported, for subcommands that are separate
 * executables (panelctl has none); that module drags in net, dgram and their bindings, a few ms
 * of every start-up. Load it on first use instead. The build fails if commander changes the line.
 */
const lazyChildProcessInCommander = {
  name: 'lazy-child-process-in-commander',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const eager = "const childProcess = require('node:child_process');";
      const source = await fs.promises.readFile(args.path, 'utf8');
      if (!source.includes(eager)) throw new Error(`${args.path}: expected "${eager}"; update scripts/build.mjs`);
      const lazy = "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
      return { contents: source.replace(eager, lazy), loader: 'js' };
    });
  },
};

// Bundled CommonJS packages (commander, yaml, csv) call require() for Node's own modules, through
// esbuild's __require helper, which looks for a `require` in its own chunk's scope.
const REQUIRE_BANNER = "import { createRequire as __panelctlRequire } from 'node:module'; const require = __panelctlRequire(import.meta.url);";

/**
 * The banner in a chunk that never names `require` costs a module record and a createRequire at
 * start-up (~0.07 ms each, over 50 chunks on the way to a panel). It becomes an empty line there, so
 * the line numbers the source maps hold stay right.
 */
function withoutUnusedBanner(file) {
  if (!file.path.endsWith('.js')) return file.contents;
  const text = file.text;
  if (!text.startsWith(`${REQUIRE_BANNER}\n`)) throw new Error(`${file.path}: expected the require banner first`);
  return /\brequire\b/.test(text.slice(REQUIRE_BANNER.length)) ? file.contents : `\n${text.slice(REQUIRE_BANNER.length + 1)}`;
}

// Stale chunks from an earlier build must not linger next to the new ones.
fs.rmSync(outdir, { recursive: true, force: true });
const bundled = await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Source maps name files relative to the map, so they point at src/ wherever the tree lives.
  sourcesContent: false,
  chunkNames: 'chunk-[hash]',
  // Native bindings and packages that find files of their own at run time stay in node_modules.
  external: ['serialport', '@serialport/*', 'modbus-serial', 'iconv-lite'],
  define: { __PANELCTL_VERSION__: JSON.stringify(pkg.version) },
  banner: { js: REQUIRE_BANNER },
  plugins: [lazyChildProcessInCommander],
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
});
fs.mkdirSync(outdir, { recursive: true });
for (const file of bundled.outputFiles) fs.writeFileSync(file.path, withoutUnusedBanner(file));
// `panelctl --version` and `panelctl --help` alone, which bin/panelctl.js answers without loading the
// CLI: the help is what the bundle just built prints for --help when stdout is not a terminal (80
// columns; see bin/panelctl.js), so it cannot differ from it (test/e2e/startup.e2e.test.ts).
fs.writeFileSync(path.join(outdir, 'answers.json'), `${JSON.stringify({ version: pkg.version, help: helpOfBundle() }, null, 2)}\n`);

function helpOfBundle() {
  const main = pathToFileURL(path.join(outdir, 'main.js')).href;
  const script = `const { main } = await import(${JSON.stringify(main)}); await main(['node', 'panelctl', '--help']);`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH }, stdio: 'pipe' });
  if (result.status !== 0 || result.stderr || !result.stdout.startsWith('Usage: panelctl')) {
    throw new Error(`panelctl --help from the bundle exited ${result.status}: ${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}
