// How much panelctl costs before it does any work: --version and --help against a bare `node -e 0`,
// measured side by side. Heavy modules (drivers, serialport, prompts, spinners) must load lazily.
import { fileURLToPath } from 'node:url';
import { interleave, fmt } from './lib.mjs';

const bin = fileURLToPath(new URL('../bin/panelctl.js', import.meta.url));
const node = process.execPath;
const runs = Number(process.env.RUNS ?? 15);
const [bare, version, help] = interleave([[node, '-e', '0'], [node, bin, '--version'], [node, bin, '--help']], runs);

console.log(`startup (median of ${runs} interleaved runs)`);
console.log(`  node -e 0            ${fmt(bare)}`);
console.log(`  panelctl --version   ${fmt(version)}   ratio ${(version / bare).toFixed(2)}x`);
console.log(`  panelctl --help      ${fmt(help)}   ratio ${(help / bare).toFixed(2)}x`);
