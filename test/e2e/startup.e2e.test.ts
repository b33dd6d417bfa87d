import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSandbox, type Sandbox } from '../support/cli.js';

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
  it('--version answers from the bundle alone, with the version inlined at build time and no command tree', async () => {
    const loads = await loadsOf(['--version']);
    const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(loads.code).toBe(0);
    expect(loads.stdout.trim()).toBe(pkg.version);
    const files = loads.files.filter((f) => f.startsWith('file:'));
    expect(files.filter((f) => !f.includes('/dist/bundle/cli/') && !f.endsWith('/bin/panelctl.js'))).toEqual([]);
    expect(HEAVY_BUILTINS.filter((m) => loads.builtins.has(m))).toEqual([]);
    expect(loads.sources.filter((s) => s.startsWith('node_modules/commander/'))).toEqual([]);
  });

  it("--version among other flags is still commander's", async () => {
    const result = await sandbox.run(['--no-color', '--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--help loads no driver, prompt, spinner, YAML or schema library and none of the heavy built-ins', async () => {
    const loads = await loadsOf(['--help']);
    expect(loads.code).toBe(0);
    expect(loads.stdout).toContain('Usage: panelctl');
    expect(loads.sources.filter((s) => /^drivers\/|node_modules\/(yaml|zod|@inquirer|ora|chalk|csv-parse)\//.test(s))).toEqual([]);
    expect(HEAVY_BUILTINS.filter((m) => loads.builtins.has(m))).toEqual([]);
  });

  it('a demo panel without an inventory loads its own driver only, and neither YAML nor the schema library', async () => {
    await fs.rm(sandbox.env.PANELCTL_INVENTORY as string, { force: true });
    const loads = await loadsOf(['users', 'list', '--panel', 'demo', '-o', 'json'], { PANELCTL_INVENTORY: undefined });
    expect(loads.code).toBe(0);
    expect(JSON.parse(loads.stdout).users.length).toBeGreaterThan(0);
    expect(loads.sources).toContain('drivers/integra/driver.ts');
    expect(loads.sources.filter((s) => /^drivers\/(dsc|modbus)\/|node_modules\/(yaml|zod|@inquirer|ora)\//.test(s))).toEqual([]);
    // The demo users' names are ASCII: the Windows-1250 code tables are not needed to read them.
    expect(loads.cjs.filter((f) => f.includes('iconv-lite'))).toEqual([]);
  });
});
