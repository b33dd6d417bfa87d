/**
 * The last resort, when there is no Output to write through (src/output/output.ts): a crash handler, or
 * Output's own stream failing. Its own module so the start-up path does not load Output's colour library.
 * Writes one line to stderr as it is: callers pass text already scrubbed of secrets.
 */
export function lastResort(line: string): void {
  process.stderr.write(`${line}\n`);
}
