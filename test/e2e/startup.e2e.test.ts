import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { createRequire, SourceMap } from 'node:module';
import stringWidth from 'string-width';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { TtySession } from '../support/tty.js';

/**
 * What the binary loads on its way to an answer, recorded by a loader hook (no timing: the
 * figures live in bench/startup.mjs). Start-up cost is mostly modules read and compiled, so
 * these pin the structure that keeps it low: one bundle, heavy parts loaded only when used.
 */

const RECORDER = fileURLToPath(new URL('../support/record-loads.mjs', import.meta.url));
const ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
let sandbox: Sandbox;

interface Loads {
  code: number | null;
  stdout: string;
  builtins: Set<string>;
  files: string[];
  sources: string[];
  cjs: string[];
}

async function loadsOf(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Loads> {
  const record = path.join(sandbox.dir, `loads-${Math.random().toString(36).slice(2)}.txt`);
  const result = await sandbox.run(args, { env: { RECORD_LOADS: record, NODE_OPTIONS: `--import ${RECORDER}`, ...env } });
  const lines = (await fs.readFile(record, 'utf8')).split('\n');
  const of = (kind: string) => lines.filter((l) => l.startsWith(`${kind} `)).map((l) => l.slice(kind.length + 1));
  return { code: result.code, stdout: result.stdout, builtins: new Set(of('builtin')), files: of('file'), sources: of('source'), cjs: of('cjs') };
}

/** The files of panelctl's own that a run read, ES modules and require()d files alike, relative to the checkout. */
function panelctlFiles(loads: Loads): string[] {
  const files = [...loads.files.filter((f) => f.startsWith('file:')).map((f) => fileURLToPath(f)), ...loads.cjs];
  const ours = files.filter((f) => f.startsWith(`${ROOT}/`) && !f.includes('/test/support/')).map((f) => path.relative(ROOT, f));
  return [...new Set(ours)].sort();
}

/** What the bundle's own main (commander) prints for --help, with stdout a pipe as in the runs above. */
function helpFromTheBundle(): Promise<string> {
  const main = path.join(ROOT, 'dist/bundle/cli/main.cjs');
  const script = `require(${JSON.stringify(main)}).main(['node', 'panelctl', '--help']);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { env: sandbox.env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`the bundle's --help exited ${code}`))));
  });
}

/** What a `node -e SCRIPT` printed on one of its streams. */
function stdoutOf(script: string, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { env: sandbox.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child[stream].on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

/**
 * Built-ins that cost milliseconds to load and that neither help nor the version needs (net is
 * not among them: Node loads it itself when stdout is a pipe, as it is here).
 */
const HEAVY_BUILTINS = ['crypto', 'child_process', 'dgram', 'fs/promises'];

beforeAll(async () => {
  sandbox = await makeSandbox();
});

afterAll(async () => {
  await sandbox.cleanup();
});

describe('start-up', () => {
  it("--version is answered by bin/panelctl.js from the build's answers file alone: no bundle, no commander", async () => {
    for (const flag of ['--version', '-V']) {
      const loads = await loadsOf([flag]);
      const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
      expect(loads.code).toBe(0);
      expect(loads.stdout).toBe(`${pkg.version}\n`);
      expect(panelctlFiles(loads)).toEqual(['bin/panelctl.js', 'dist/bundle/cli/answers.json']);
      expect(HEAVY_BUILTINS.filter((m) => loads.builtins.has(m))).toEqual([]);
    }
  });

  it("--version among other flags is still commander's", async () => {
    const result = await sandbox.run(['--no-color', '--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("--help alone is the build's copy of commander's help, byte for byte, read without loading the bundle", async () => {
    const commanders = await helpFromTheBundle();
    expect(commanders).toContain('Usage: panelctl');
    for (const flag of ['--help', '-h']) {
      const loads = await loadsOf([flag]);
      expect(loads.code).toBe(0);
      expect(loads.stdout).toBe(commanders);
      expect(panelctlFiles(loads)).toEqual(['bin/panelctl.js', 'dist/bundle/cli/answers.json']);
      expect(HEAVY_BUILTINS.filter((m) => loads.builtins.has(m))).toEqual([]);
    }
  });

  it('--help in a terminal wider than 80 columns is wrapped by commander to its width', async () => {
    const tty = new TtySession(['--help'], sandbox.env, { cols: 150, rows: 80 });
    expect((await tty.exited).exitCode).toBe(0);
    const lines = tty.text.split(/\r?\n/);
    // The 80-column copy wraps this description; at 150 columns it fits on one line.
    expect(lines.some((l) => /--timeout <duration> +how long to wait for a panel to answer: 30s, 1m, 1m30s \(a bare number is seconds\)/.test(l))).toBe(true);
  });

  it("help for a command, a bad flag and the bare command are still commander's", async () => {
    const users = await sandbox.run(['users', '--help']);
    expect(users.code).toBe(0);
    expect(users.stdout).toContain('Usage: panelctl users');
    const bad = await sandbox.run(['--no-such-flag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option '--no-such-flag'");
    const bare = await sandbox.run([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: panelctl');
  });

  it("a command's --help (commander's) loads no driver, prompt, spinner, YAML or schema library and none of the heavy built-ins", async () => {
    const loads = await loadsOf(['users', '--help']);
    expect(loads.code).toBe(0);
    expect(loads.stdout).toContain('Usage: panelctl users');
    expect(loads.sources.filter((s) => /^drivers\/|node_modules\/(yaml|zod|@inquirer|ora|chalk|csv-parse)\//.test(s))).toEqual([]);
    expect(HEAVY_BUILTINS.filter((m) => loads.builtins.has(m))).toEqual([]);
  });

  it('a demo panel without an inventory loads its own driver only, and neither YAML nor the schema library', async () => {
    await fs.rm(sandbox.env.PANELCTL_INVENTORY as string, { force: true });
    const loads = await loadsOf(['users', 'list', '--panel', 'demo', '-o', 'json'], { PANELCTL_INVENTORY: undefined });
    expect(loads.code).toBe(0);
    expect(JSON.parse(loads.stdout).users.length).toBeGreaterThan(0);
    // One file of code (the CommonJS bundle, compiled from its code cache): no chunk, no vendored package.
    expect(panelctlFiles(loads)).toEqual(['bin/load-bundle.js', 'bin/panelctl.js', 'dist/bundle/cli/main.cjs']);
    expect(loads.sources).toContain('drivers/integra/driver.ts');
    expect(loads.sources.filter((s) => /^drivers\/(dsc|modbus)\/|node_modules\/(yaml|zod|@inquirer|ora)\//.test(s))).toEqual([]);
    // Nor what only other commands or other outputs need: the HTTP(S) client (MAP 5000), colour for a terminal
    // (chalk, with node:tty), the audit log's file lock (proper-lockfile, with graceful-fs patching fs).
    expect(loads.sources.filter((s) => /^src\/transport\/http\.ts|node_modules\/(chalk|proper-lockfile|graceful-fs)\//.test(s))).toEqual([]);
    expect(['http', 'https', 'tls', 'tty'].filter((m) => loads.builtins.has(m))).toEqual([]);
    // The demo users' names are ASCII: the Windows-1250 code tables are not needed to read them.
    expect(loads.cjs.filter((f) => f.includes('iconv-lite'))).toEqual([]);
  });

  it('a demo panel loads neither node:crypto (the lock file is named by its own SHA-256) nor node:fs/promises', async () => {
    await fs.rm(sandbox.env.PANELCTL_INVENTORY as string, { force: true });
    const loads = await loadsOf(['users', 'list', '--panel', 'demo', '-o', 'json'], { PANELCTL_INVENTORY: undefined });
    expect(loads.code).toBe(0);
    // The modules that import them still run (a lock is taken, a file could be written safely): the built-ins load
    // on first use (scripts/build.mjs), and nothing on this path uses them.
    expect(loads.sources).toEqual(
      expect.arrayContaining(['src/state/work-locks.ts', 'src/state/process-lock.ts', 'src/state/safe-file.ts', 'src/core/code-policy.ts']),
    );
    expect(['crypto', 'fs/promises'].filter((m) => loads.builtins.has(m))).toEqual([]);
    // The lock it took (and released) is where an older panelctl looks for it: node:crypto's SHA-256 of the same key.
    const locks = await fs.readdir(path.join(sandbox.env.PANELCTL_STATE_DIR as string, 'locks', 'panels'));
    expect(locks.every((name) => /^[0-9a-f]{24}\.lock$/.test(name))).toBe(true);
  });

  it("info on a demo panel loads the bundle and zod's vendor file only (for the driver's options), and zod's file holds only what the sources use", async () => {
    const loads = await loadsOf(['info', '--panel', 'demo', '-o', 'json'], { PANELCTL_INVENTORY: undefined });
    expect(loads.code).toBe(0);
    expect(JSON.parse(loads.stdout).options).toEqual({});
    expect(panelctlFiles(loads)).toEqual(['bin/load-bundle.js', 'bin/panelctl.js', 'dist/bundle/cli/main.cjs', 'dist/bundle/cli/vendor/zod.cjs']);
    expect(loads.sources.filter((s) => /^drivers\/(dsc|modbus)\/|node_modules\/(yaml|@inquirer|ora|chalk)\//.test(s))).toEqual([]);
    // Tree-shaken as when zod was in the bundle: 200 kB of its 770, without its locales.
    const zod = createRequire(import.meta.url)(path.join(ROOT, 'dist/bundle/cli/vendor/zod.cjs'));
    expect(typeof zod.object).toBe('function');
    expect(zod.locales).toBeUndefined();
  });

  it("the bundle is compiled from the build's code cache, which V8 accepts, and the packages the demo path does not need are files of their own", async () => {
    const dir = path.join(ROOT, 'dist/bundle/cli');
    expect((await fs.readdir(dir)).filter((f) => f.endsWith('.js') || f.endsWith('.cjs')).sort()).toEqual(['main.cjs']);
    const vendored = await fs.readdir(path.join(dir, 'vendor'));
    for (const name of ['zod.cjs', 'yaml.cjs', 'inquirer-prompts.cjs', 'ora.cjs', 'chalk.cjs', 'pg.cjs', 'selfsigned.cjs']) expect(vendored).toContain(name);
    const script = `const { loadBundle } = require(${JSON.stringify(path.join(ROOT, 'bin/load-bundle.js'))}); process.stdout.write(String(loadBundle().script.cachedDataRejected));`;
    expect(await stdoutOf(script)).toBe('false');
  });

  it("with an inventory, js-yaml's and zod's vendor files are compiled from code caches of their own, which V8 accepts", async () => {
    await sandbox.writeInventory('panels:\n  site-1: { driver: integra, link: "tcp://10.0.0.1:7094", secret: env:PANEL_CODE }\n');
    // The binary's own loader, running the bench's inventory command; then, per file it compiled: was its cache accepted?
    // (`cachedDataRejected` is false for an accepted cache, true for a refused one, and unset without one.)
    const script = `const { loadBundle, scripts } = require(${JSON.stringify(path.join(ROOT, 'bin/load-bundle.js'))});
      loadBundle().cli.run(['node', 'panelctl', 'users', 'list', '--panel', 'demo', '-o', 'json']).then((code) => {
        const rejected = Object.fromEntries([...scripts].map(([file, s]) => [file.slice(${JSON.stringify(`${ROOT}/dist/bundle/cli/`)}.length), String(s.cachedDataRejected)]));
        process.stderr.write(JSON.stringify({ code, rejected }));
      });`;
    const result = JSON.parse(await stdoutOf(script, 'stderr')) as { code: number; rejected: Record<string, string> };
    expect(result).toEqual({ code: 0, rejected: { 'main.cjs': 'false', 'vendor/js-yaml.cjs': 'false', 'vendor/zod.cjs': 'false' } });
    // Only the build writes them, next to the files they compile (SECURITY.md, "Compiled code that is not the source").
    const caches = (await fs.readdir(path.join(ROOT, 'dist/bundle/cli/vendor'))).filter((f) => f.endsWith('.cache')).sort();
    expect(caches).toEqual(['chalk.cjs.cache', 'js-yaml.cjs.cache', 'ora.cjs.cache', 'pg.cjs.cache', 'zod.cjs.cache']);
  });

  it("team state: pg's vendor file compiles from a code cache of its own, and making a client loads no fetch (undici)", async () => {
    // pg asked whether it runs in a Cloudflare Worker by constructing a fetch Response: Node's undici, ~16 ms per command.
    const script = `const { loadVendored, scripts, VENDOR } = require(${JSON.stringify(path.join(ROOT, 'bin/load-bundle.js'))});
      const pg = loadVendored('pg.cjs');
      const pool = new pg.Pool({ connectionString: 'postgres://panelctl@127.0.0.1:1/panelctl', max: 4 });
      new pg.Client({ connectionString: 'postgres://panelctl@127.0.0.1:1/panelctl' });
      pool.end();
      const undici = process.moduleLoadList.some((name) => name.includes('undici'));
      process.stdout.write(JSON.stringify({ undici, rejected: String(scripts.get(require('node:path').join(VENDOR, 'pg.cjs')).cachedDataRejected) }));`;
    expect(JSON.parse(await stdoutOf(script))).toEqual({ undici: false, rejected: 'false' });
  });

  it("with an inventory of INTEGRA panels, only INTEGRA's option schemas are built, not every driver's", async () => {
    await sandbox.writeInventory(
      'panels:\n  site-1: { driver: integra, link: "tcp://10.0.0.1:7094", secret: env:PANEL_CODE }\n  site-2: { driver: integra, link: "tcp://10.0.0.2:7094" }\n',
    );
    const loads = await loadsOf(['users', 'list', '--panel', 'demo', '-o', 'json']);
    expect(loads.code).toBe(0);
    expect(loads.sources.filter((s) => /^drivers\/[a-z0-9]+\/options\.ts$/.test(s))).toEqual(['drivers/integra/options.ts']);
    // A panel of another driver brings its rules: an unknown option there is still named, with the rule.
    const mixed = await sandbox.run(['users', 'list', '--panel', 'demo'], {
      env: {
        PANELCTL_INVENTORY: await sandbox.writeInventory(
          'panels:\n  site-1: { driver: integra, link: "tcp://10.0.0.1:7094" }\n  door: { driver: modbus, link: "tcp://10.0.0.3:502", options: { unti: 1 } }\n',
        ),
      },
    });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/panel "door", field "options\.unti": unknown option; did you mean unit\?/);
  });

  it('with an inventory (a regular file, read synchronously), neither node:fs/promises nor node:crypto loads', async () => {
    await sandbox.writeInventory('panels:\n  site-1: { driver: integra, link: "tcp://10.0.0.1:7094", secret: env:PANEL_CODE }\n');
    const loads = await loadsOf(['users', 'list', '--panel', 'demo', '-o', 'json']);
    expect(loads.code).toBe(0);
    expect(loads.sources).toContain('src/core/bounded-read.ts');
    expect(['crypto', 'fs/promises'].filter((m) => loads.builtins.has(m))).toEqual([]);
  });

  it('checking an inventory compiles no code from strings: zod runs without its generated fast path (jitless)', async () => {
    await sandbox.writeInventory('panels:\n  site-1: { driver: integra, link: "tcp://10.0.0.1:7094", secret: env:PANEL_CODE }\n');
    // zod 4 builds each object schema's fast path with new Function() on its first parse: code no code cache holds.
    const script = `let made = 0;
      globalThis.Function = new Proxy(Function, { construct(target, args) { made++; return Reflect.construct(target, args); } });
      const { loadBundle } = require(${JSON.stringify(path.join(ROOT, 'bin/load-bundle.js'))});
      loadBundle().cli.run(['node', 'panelctl', 'users', 'list', '--panel', 'demo', '-o', 'json']).then((code) => process.stderr.write(JSON.stringify({ code, made })));`;
    expect(JSON.parse(await stdoutOf(script, 'stderr'))).toEqual({ code: 0, made: 0 });
  });

  it('with an inventory, the binary reads the bundle, js-yaml and zod, and answers as without one', async () => {
    await sandbox.writeInventory('panels:\n  site-1: { driver: integra, link: "tcp://10.0.0.1:7094", secret: env:PANEL_CODE }\n');
    const loads = await loadsOf(['users', 'list', '--panel', 'demo', '-o', 'json']);
    expect(loads.code).toBe(0);
    expect(JSON.parse(loads.stdout).users.length).toBeGreaterThan(0);
    expect(panelctlFiles(loads)).toEqual([
      'bin/load-bundle.js',
      'bin/panelctl.js',
      'dist/bundle/cli/main.cjs',
      'dist/bundle/cli/vendor/js-yaml.cjs',
      'dist/bundle/cli/vendor/zod.cjs',
    ]);
    const bad = await sandbox.run(['users', 'list', '--panel', 'demo'], {
      env: { PANELCTL_INVENTORY: await sandbox.writeInventory('panels:\n  x: { driver: integra }\n') },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/panel "x", field "link"/);
  });

  it("in a terminal, the spinner (ora) and colour (chalk) compile from code caches of their own, and a spinner's frames need no grapheme segmenter", async () => {
    // As src/cli/context.ts and src/output/palette.ts use them, on a stand-in for a terminal's stderr; counting the
    // Intl.Segmenter objects made (string-width's, in ora's file: ICU's data, ~35 ms for the first frame).
    const script = `let made = 0;
      const Segmenter = Intl.Segmenter;
      Intl.Segmenter = class extends Segmenter { constructor(...args) { super(...args); made++; } };
      const { loadVendored, scripts, VENDOR } = require(${JSON.stringify(path.join(ROOT, 'bin/load-bundle.js'))});
      const terminal = Object.assign(new (require('node:stream').PassThrough)(), { isTTY: true, columns: 80, cursorTo() {}, clearLine() {}, moveCursor() {} });
      let frames = '';
      terminal.on('data', (d) => (frames += d));
      const spinner = loadVendored('ora.cjs').default({ text: '', stream: terminal, discardStdin: false, isEnabled: true, spinner: 'dots' }).start();
      spinner.text = 'reading users 3/12';
      spinner.render();
      spinner.stop();
      const red = new (loadVendored('chalk.cjs').Chalk)({ level: 1 }).red('refused');
      const rejected = (name) => String(scripts.get(require('node:path').join(VENDOR, name)).cachedDataRejected);
      process.stdout.write(JSON.stringify({ made, drawn: frames.includes('\u280b reading users 3/12'), red, ora: rejected('ora.cjs'), chalk: rejected('chalk.cjs') }));`;
    expect(JSON.parse(await stdoutOf(script))).toEqual({ made: 0, drawn: true, red: '\u001b[31mrefused\u001b[39m', ora: 'false', chalk: 'false' });
  });

  it('string-width as built (scripts/build.mjs: Braille in its fast path, ICU made on first use) measures as string-width itself', async () => {
    const built = createRequire(import.meta.url)(path.join(ROOT, 'dist/bundle/cli/vendor/string-width.cjs')).default as typeof stringWidth;
    const samples = ['', 'reading users 3/12', '\u6f22\u{1f600} ok', 'e\u0301', '\u2800\u0301', '\u28ff\u200d\u2800', '\u00e9'];
    for (let cp = 0x2800; cp <= 0x28ff; cp++) samples.push(String.fromCodePoint(cp), `${String.fromCodePoint(cp)} reading users 3/12`);
    for (const text of samples)
      for (const options of [{}, { ambiguousIsNarrow: false }]) expect([text, built(text, options)]).toEqual([text, stringWidth(text, options)]);
  });

  it('a vendored package keeps its interface: a default import is the default export, named imports are the names', async () => {
    const require = createRequire(import.meta.url);
    const dir = path.join(ROOT, 'dist/bundle/cli/vendor');
    expect(typeof require(path.join(dir, 'p-limit.cjs')).default).toBe('function');
    expect(typeof require(path.join(dir, 'yaml.cjs')).parse).toBe('function');
    expect(typeof require(path.join(dir, 'zod.cjs')).object).toBe('function');
  });

  it('source maps still point at src/ lines', async () => {
    const dir = path.join(ROOT, 'dist/bundle/cli');
    const sourceLine = (await fs.readFile(path.join(ROOT, 'src/output/output.ts'), 'utf8')).split('\n').findIndex((l) => l.startsWith('  result<T>('));
    const text = await fs.readFile(path.join(dir, 'main.cjs'), 'utf8');
    const line = text.split('\n').findIndex((l) => /^ {6}result\(document, rows, columns, ndjsonRows\) \{/.test(l));
    expect(line).toBeGreaterThan(0);
    const map = new SourceMap(JSON.parse(await fs.readFile(path.join(dir, 'main.cjs.map'), 'utf8')));
    const column = (text.split('\n')[line] as string).indexOf('result');
    const entry = map.findEntry(line, column) as { originalSource: string; originalLine: number };
    expect(entry.originalSource).toMatch(/src\/output\/output\.ts$/);
    expect(entry.originalLine).toBe(sourceLine);
  });
});
