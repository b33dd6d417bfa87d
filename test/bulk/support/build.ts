import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** Child processes run dist/: `npm test` builds first; a bare `vitest run` may not have, so build when stale. */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(path.join(ROOT, 'dist/src/cli/actions/bulk.js')).mtimeMs;
  } catch {
    // not built yet
  }
  if (built >= Math.max(newest(path.join(ROOT, 'src')), newest(path.join(ROOT, 'drivers')))) return;
  const result = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', ROOT], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`build failed:\n${result.stdout}${result.stderr}`);
}
