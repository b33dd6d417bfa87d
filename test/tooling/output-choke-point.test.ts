import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Everything panelctl prints goes through Output (src/output/output.ts): that is where outside text is made
 * printable and where machine formats keep stdout clean. A direct write anywhere else in src/ or drivers/
 * bypasses both. (Passing a stream to a library that draws on the terminal, a spinner or a prompt, is not a
 * write: those take `out.stderr`.) biome's noConsole holds the same line for console.* in the lint step.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIRECT = /\bprocess\.(stdout|stderr)\.write\s*\(|\bconsole\.(log|error|warn|info|debug|trace)\s*\(/;

async function sources(dir: string): Promise<string[]> {
  const entries = await fs.readdir(path.join(ROOT, dir), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

/** The lines of `text` that write directly, comments left out. */
function directWrites(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
    .filter((line) => DIRECT.test(line));
}

describe('every write to stdout and stderr goes through Output', () => {
  it('finds a direct write when there is one (the check can fail)', () => {
    expect(directWrites("  process.stderr.write('hi\\n');\n  // process.stdout.write(x) in a comment\n  console.log(x);")).toHaveLength(2);
  });

  it('src/ and drivers/ write only through src/output/', async () => {
    const files = [...(await sources('src')), ...(await sources('drivers'))].filter((f) => !f.startsWith(`src${path.sep}output${path.sep}`));
    expect(files.length).toBeGreaterThan(50);
    const found: string[] = [];
    for (const file of files) {
      for (const line of directWrites(await fs.readFile(path.join(ROOT, file), 'utf8'))) found.push(`${file}: ${line.trim()}`);
    }
    expect(found).toEqual([]);
  });
});
