// `users list` against a simulated Bosch MAP 5000 with 500 users, at the panel's own pacing rule
// ("at least 1 second between the last response and the next request"): requests sent, wall time,
// and the floor the rule sets for that many requests ((requests - 1) x 1 s). Also one code change
// (`users set-code` through the operations' steps: read, write, read back), for its request count.
import { performance } from 'node:perf_hooks';
import { createSimulator, DEMO_PASSWORD, DEMO_USER } from '../dist/drivers/map5000/simulator.js';
import { driver } from '../dist/drivers/map5000/driver.js';
import { Secret } from '../dist/src/core/secret.js';
import { median } from './lib.mjs';

const runs = Number(process.env.RUNS ?? 3);
const users = 500;
const interval = 1000;
const sim = await createSimulator({ users, options: { intervalMs: interval } });
const endpoint = await sim.listen('127.0.0.1', 0);
const open = () =>
  driver.open({ link: endpoint.link, secrets: { password: new Secret(DEMO_PASSWORD, 'password') }, options: { user: DEMO_USER }, timeoutMs: 30_000 });
const pause = () => new Promise((resolve) => setTimeout(resolve, interval + 50)); // the rule holds across sessions too

const times = [];
let requests = 0;
let listed = 0;
for (let i = 0; i < runs; i++) {
  await pause();
  const session = await open();
  const before = sim.model.log.length;
  const start = performance.now();
  listed = (await session.reader.listUsers()).length;
  times.push(performance.now() - start);
  requests = sim.model.log.length - before;
  await session.close();
}

await pause();
const session = await open();
const before = sim.model.log.length;
const start = performance.now();
await session.reader.readUser(5);
await session.writer.changeCode(5, new Secret('482913'));
const proven = await session.codeChecker.verifyCode(5, new Secret('482913'));
const changeMs = performance.now() - start;
const changeRequests = sim.model.log.slice(before);
await session.close();
await endpoint.close();
await sim.close();

const floor = (requests - 1) * interval;
console.log(`MAP 5000 users list, ${listed} users, pacing ${interval} ms between an answer and the next request`);
console.log(`  requests per list      ${requests} (the digest challenge and GET /users; no answer was 503)`);
console.log(
  `  wall time              ${median(times).toFixed(0)} ms (median of ${runs}); the rule's floor ${floor} ms: ratio ${(median(times) / floor).toFixed(2)}`,
);
console.log(
  `  one code change        ${changeRequests.length} requests (${changeRequests.map((e) => `${e.method} ${e.path.replace(/\/usermodel\/\d+/, '/usermodel/{id}')} ${e.status}`).join(', ')}), ${changeMs.toFixed(0)} ms, proven: ${proven}`,
);
process.exit(0);
