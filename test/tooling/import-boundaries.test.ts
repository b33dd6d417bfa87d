import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The layer rules in biome.jsonc (noRestrictedImports overrides), proven on throw-away files: each probe is
 * linted with the repository's own configuration in a temp copy of the tree layout, so the real tree is never
 * touched. `npm run lint` (run first by `npm test` and .ci/run) applies the same rules to the real files.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIOME = path.join(ROOT, 'node_modules/.bin/biome');
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-boundaries-'));
  await fs.copyFile(path.join(ROOT, 'biome.jsonc'), path.join(dir, 'biome.jsonc'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Lints one file holding `source` at `file` (relative to the tree root); resolves to biome's exit code and report. */
async function lint(file: string, source: string): Promise<{ code: number; report: string }> {
  await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
  await fs.writeFile(path.join(dir, file), source);
  return new Promise((resolve) => {
    execFile(BIOME, ['lint', '--vcs-enabled=false', '--max-diagnostics=50', file], { cwd: dir }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, report: stdout + stderr });
    });
  });
}

describe('import boundaries (biome noRestrictedImports)', () => {
  it('rejects a deliberate cross-driver import', async () => {
    const { code, report } = await lint('drivers/integra/cross.ts', "import { x } from '../dsc/codec.js';\nexport const y = x;\n");
    expect(code).not.toBe(0);
    expect(report).toContain('a driver imports only its own folder and the driver kit');
  });

  it('rejects a driver reaching into src/ around the kit', async () => {
    const { code, report } = await lint('drivers/integra/around.ts', "import { x } from '../../src/core/errors.js';\nexport const y = x;\n");
    expect(code).not.toBe(0);
    expect(report).toContain('a driver imports only its own folder and the driver kit');
  });

  it('accepts a driver importing the kit and its own folder', async () => {
    const source = "import { x } from '../../src/driver-kit/index.js';\nimport { z } from './codec.js';\nexport const y = [x, z];\n";
    const { code, report } = await lint('drivers/integra/fine.ts', source);
    expect(report).not.toContain('noRestrictedImports');
    expect(code).toBe(0);
  });

  it('rejects src/core importing anything above it', async () => {
    const { code, report } = await lint('src/core/upward.ts', "import { x } from '../operations/users.js';\nexport const y = x;\n");
    expect(code).not.toBe(0);
    expect(report).toContain('src/core is the bottom layer');
  });

  it.each(['src/operations/reach.ts', 'src/bulk/reach.ts', 'src/station/reach.ts', 'src/bulk/deeper/reach.ts'])(
    'rejects %s importing the CLI',
    async (file) => {
      const up = '../'.repeat(file.split('/').length - 2);
      const { code, report } = await lint(file, `import { x } from '${up}cli/context.js';\nexport const y = x;\n`);
      expect(code).not.toBe(0);
      expect(report).toContain('never import the CLI');
    },
  );
});
