import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

/**
 * The e2e tests' way to run the binary (test/support/cli.ts). A command that exits without reading its stdin made
 * writing the input fail with EPIPE, an uncaught error that failed the whole run (seen in test/conformance/vista.test.ts).
 */
describe('runCli', () => {
  it('a command that exits without reading its input is its exit code and output, not an EPIPE', async () => {
    // More than a pipe holds, so the write is still going when the child exits.
    const result = await runCli(['--version'], process.env, 'x'.repeat(4 * 1024 * 1024));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
