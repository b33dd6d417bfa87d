// VISTA user operations as the CLI runs them (open, one step proven by the panel's beep, close),
// against the simulated VISTA-20P behind an AlarmDecoder over TCP (ser2sock style): keys sent per
// operation versus the minimum keypad sequence, and wall time at the driver's default pace (150 ms
// between keys) versus the time the keys themselves need at that pace. Needs `npx tsc -p .` first.
import { performance } from 'node:perf_hooks';
import { createSimulator } from '../dist/drivers/vista/simulator.js';
import { driver } from '../dist/drivers/vista/driver.js';
import { changeCodeStep, createUserStep, removeUserStep } from '../dist/src/operations/user-steps.js';
import { Secret } from '../dist/src/core/secret.js';
import { median } from './lib.mjs';

const runs = Number(process.env.RUNS ?? 3);
const KEY_INTERVAL = 150;
const MASTER = '8305';
const info = driver.describe();
// Minimum keys: master (4) + CODE (1) + user (2) + code (4); delete: master + CODE + user + "#0".
const MINIMUM = { add: 11, 'set-code': 11, remove: 9 };

const sim = await createSimulator({ users: 3, options: { masterCode: MASTER, statusIntervalMs: 500 } });
const server = await sim.listenTcp();
const link = { kind: 'tcp', host: '127.0.0.1', port: server.port, url: `tcp://127.0.0.1:${server.port}` };

async function once(op, slot, code) {
  const keysBefore = sim.stats.keys;
  const started = performance.now();
  const session = await driver.open({ link, secrets: { code: new Secret(MASTER) }, options: { keyIntervalMs: KEY_INTERVAL }, timeoutMs: 5000 });
  if (op === 'add') await createUserStep(session, info, { slot, name: '', code: new Secret(code) });
  else if (op === 'set-code') await changeCodeStep(session, info, slot, new Secret(code));
  else await removeUserStep(session, info, slot);
  await session.close();
  return { keys: sim.stats.keys - keysBefore, ms: performance.now() - started };
}

const rows = [];
for (const op of ['add', 'set-code', 'remove']) {
  const results = [];
  for (let run = 0; run < runs; run++) {
    const slot = 10 + run;
    if (op === 'set-code' || op === 'remove') sim.state.codes[String(slot).padStart(2, '0')] ??= String(5000 + run);
    results.push(await once(op, slot, String(6100 + run * 7 + (op === 'set-code' ? 3 : 0))));
  }
  const keys = results[0].keys;
  const wall = median(results.map((r) => r.ms));
  const keyTime = (keys - 1) * KEY_INTERVAL;
  rows.push({ op, keys: `${keys} (${MINIMUM[op]})`, wall: `${(wall / 1000).toFixed(2)} s`, 'key time': `${(keyTime / 1000).toFixed(2)} s` });
}
console.table(rows);
console.log(`refusals: ${sim.stats.refusals}, writes: ${sim.stats.writes}, runs per op: ${runs}`);
await server.close();
await sim.close();
