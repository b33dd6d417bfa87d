// How inventory loading scales with the number of panels (issue 14 item 13: it was quadratic, then heavy).
// Usage: npm run build && node bench/inventory-parse.mjs [panels...]
import { drivers } from '../dist/drivers/index.js';
import { driverSchemasOf, parseInventory } from '../dist/src/inventory/load.js';

// Every panel checked with its driver's option schemas, as `panelctl` loads an inventory.
const schemas = await driverSchemasOf(drivers);

function inventory(n) {
  let text = 'panels:\n';
  for (let i = 0; i < n; i++) {
    text += `  p${i}:\n    driver: integra\n    link: tcp://10.0.${(i >> 8) & 255}.${i & 255}:7094\n    secret: env:X\n    account: "${i}"\n    tags: { site: s${i % 50} }\n`;
  }
  return text;
}

const sizes = process.argv.slice(2).map(Number);
let previous;
for (const n of sizes.length ? sizes : [5000, 10000, 20000, 40000]) {
  const text = inventory(n);
  const start = performance.now();
  parseInventory(text, `${n} panels`, drivers.names, schemas);
  const ms = performance.now() - start;
  const perPanel = (ms * 1000) / n;
  console.log(
    `${String(n).padStart(7)} panels  ${(text.length / 1048576).toFixed(1).padStart(5)} MiB  ${ms.toFixed(0).padStart(6)} ms  ${perPanel.toFixed(0)} µs/panel${previous ? `  (x${(ms / previous).toFixed(2)} time for x2 panels)` : ''}`,
  );
  previous = ms;
}
