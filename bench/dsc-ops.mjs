// DSC user operations as the CLI runs them (open, one verified step, close), against the simulated
// PC1864: keystrokes and commands (round trips) per operation versus the minimum keypad sequence,
// over the Envisalink TPI (TCP) and the IT-100 framing; then wall time per operation on a pseudo-terminal
// paced at 9600 baud versus the time the bytes need on such a line. Needs `npx tsc -p .` first.
import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createSimulator } from '../dist/drivers/dsc/simulator.js';
import { driver } from '../dist/drivers/dsc/driver.js';
import { changeCodeStep, createUserStep, removeUserStep } from '../dist/src/operations/user-steps.js';
import { serveSerial } from '../dist/src/transport/serial.js';
import { Secret } from '../dist/src/core/secret.js';
import { median } from './lib.mjs';

const L = 4; // code length
const SLOTS = 95; // PC1864
const USERS = 12;
const runs = Number(process.env.RUNS ?? 3);
const info = driver.describe();

/** Counts bytes each way by wrapping the simulator's streams. */
function counting(sim) {
  const counts = { bytesIn: 0, bytesOut: 0 };
  const accept = sim.accept.bind(sim);
  sim.accept = (stream) =>
    accept({
      get closed() {
        return stream.closed;
      },
      get description() {
        return stream.description;
      },
      onData: (listener) =>
        stream.onData((chunk) => {
          counts.bytesIn += chunk.length;
          listener(chunk);
        }),
      write: (data) => {
        counts.bytesOut += data.length;
        return stream.write(data);
      },
      onClose: (l) => stream.onClose(l),
      close: () => stream.close(),
    });
  return counts;
}

const secrets = (sim) => Object.fromEntries(Object.entries(sim.demoSecrets()).map(([k, v]) => [k, new Secret(v)]));

/** The keys a person would press, and the fewest commands that carry them on each module. */
const MINIMUM = {
  add: { keys: 2 + L + 2 + L + 1, tail: 2 + L + 1 }, // [*][5] master, slot, code, [#]
  'set-code': { keys: 2 + L + 2 + L + 1, tail: 2 + L + 1 },
  remove: { keys: 2 + L + 2 + 1 + 1, tail: 2 + 1 + 1 }, // [*][5] master, slot, [*], [#]
  list: { keys: 2 + L + (SLOTS - 1) + 1, tail: SLOTS - 1 + 1 }, // [*][5] master, [>] x 94, [#]
};
function minimumCommands(op, module) {
  const { tail } = MINIMUM[op];
  // Envisalink: 072 + 200 (code) + the other keys in 071 strings of 6. IT-100: 2 keys + 200 + the rest, each key + key break.
  return module === 'envisalink' ? 2 + Math.ceil(tail / 6) : 2 * 2 + 1 + 2 * tail;
}

const OPS = {
  add: (s) => createUserStep(s, info, { slot: 20, name: '', code: new Secret('5820') }),
  'set-code': (s) => changeCodeStep(s, info, 20, new Secret('7193')),
  remove: (s) => removeUserStep(s, info, 20),
  list: (s) => s.reader.listUsers(),
};

async function measure(sim, counts, link, module, extra = {}) {
  const rows = [];
  for (const [op, run] of Object.entries(OPS)) {
    // An Envisalink without keypad text cannot list (no reader): its writes only.
    if (op === 'list' && extra.lcdText === false) continue;
    const times = [];
    let delta;
    for (let i = 0; i < (link.kind === 'tcp' ? runs : 1); i++) {
      // Set the slot up directly in the panel's memory (not measured): empty for add, programmed otherwise.
      if (op === 'add') delete sim.state.codes[20];
      else sim.state.codes[20] = '3081';
      const before = { ...sim.stats, ...counts };
      const start = performance.now();
      const session = await open(sim, link, module, extra);
      const opened = { ...sim.stats };
      await run(session);
      await session.close();
      times.push(performance.now() - start);
      delta = {
        // The master code goes in a 200 command, not as keys: count it as the digits a person would press.
        keys: sim.stats.keystrokes - before.keystrokes + L * (sim.stats.menuEntries - before.menuEntries),
        commands: sim.stats.framesIn - opened.framesIn,
        setup: opened.framesIn - before.framesIn,
        bytesIn: counts.bytesIn - before.bytesIn,
        bytesOut: counts.bytesOut - before.bytesOut,
      };
    }
    rows.push({ op, ms: median(times), ...delta });
  }
  return rows;
}

async function open(sim, link, module, extra = {}) {
  // The TPI serves one client: give the module a moment to see the last one go, as a person between commands would.
  await new Promise((resolve) => setTimeout(resolve, 30));
  return driver.open({ link, secrets: secrets(sim), options: { codeLength: L, module, ...extra }, timeoutMs: 10_000 });
}

function table(rows, module) {
  console.log(`  op        keys  min  ratio   commands  min  ratio   (+ session setup: login/status)`);
  for (const r of rows) {
    const min = MINIMUM[r.op];
    const minCmd = minimumCommands(r.op, module);
    console.log(
      `  ${r.op.padEnd(9)} ${String(r.keys).padStart(4)} ${String(min.keys).padStart(4)}  ${(r.keys / min.keys).toFixed(2).padStart(5)}   ${String(r.commands).padStart(8)} ${String(minCmd).padStart(4)}  ${(r.commands / minCmd).toFixed(2).padStart(5)}   (+${r.setup})`,
    );
  }
}

for (const module of ['envisalink', 'it100']) {
  const sim = await createSimulator({ users: USERS, options: { mode: module, codeLength: L } });
  const counts = counting(sim);
  const server = await sim.listenTcp();
  const rows = await measure(sim, counts, { kind: 'tcp', host: '127.0.0.1', port: server.port, url: '' }, module);
  console.log(`DSC ${module === 'envisalink' ? 'Envisalink TPI' : 'IT-100 framing'} over TCP, PC1864 with ${USERS} users, ${L}-digit codes`);
  table(rows, module);
  console.log(`  TCP wall time: ${rows.map((r) => `${r.op} ${r.ms.toFixed(1)} ms`).join(', ')} (median of ${runs})`);
  await server.close();
  await sim.close();
}
{
  // An Envisalink without keypad text (options.lcdText: false): each write is one [*][5] visit, proven by panel-ack.
  const sim = await createSimulator({ users: USERS, options: { mode: 'envisalink', codeLength: L, lcdText: false } });
  const counts = counting(sim);
  const server = await sim.listenTcp();
  const rows = await measure(sim, counts, { kind: 'tcp', host: '127.0.0.1', port: server.port, url: '' }, 'envisalink', { lcdText: false });
  console.log(`DSC Envisalink TPI without keypad text (options.lcdText: false) over TCP, PC1864 with ${USERS} users, ${L}-digit codes`);
  table(rows, 'envisalink');
  console.log(`  TCP wall time: ${rows.map((r) => `${r.op} ${r.ms.toFixed(1)} ms`).join(', ')} (median of ${runs})`);
  console.log('  (beyond the minimum: [#] in a 071 of its own, and a status request (001) that shows the Program LED out)');
  await server.close();
  await sim.close();
}
console.log('  (keys count the master code sent with 200 as its digits. Beyond the minimum: each write reads its slot first');
console.log('   ([nn][#]); the read-back after it comes from the LCD the panel shows, with no keys. The IT-100 list scrolls');
console.log('   with [>]; the Envisalink shows each slot by number ([nn][#]), since a 071 takes no arrows)');

if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0) {
  const baud = 9600;
  const socat = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const [a, b] = await new Promise((resolve) =>
    socat.stderr.on('data', (d) => {
      err += d;
      const p = [...err.matchAll(/PTY is (\S+)/g)].map((m) => m[1]);
      if (p.length === 2 && /transfer loop/.test(err)) resolve(p);
    }),
  );
  const sim = await createSimulator({ users: USERS, paceBaud: baud, options: { mode: 'it100', codeLength: L } });
  const counts = counting(sim);
  const served = await serveSerial(a, { baudRate: baud, dataBits: 8, parity: 'none', stopBits: 1 }, (s) => sim.accept(s));
  const rows = await measure(sim, counts, { kind: 'serial', path: b, baudRate: baud, url: '' }, 'it100');
  console.log(`IT-100 on a pseudo-terminal paced at ${baud} baud (simulator replies paced; 10 bits a byte)`);
  console.log(`  op        wall ms   reply bytes  reply wire ms  ratio   request bytes  all-bytes wire ms`);
  for (const r of rows) {
    const replyMs = (r.bytesOut * 10 * 1000) / baud;
    const allMs = ((r.bytesOut + r.bytesIn) * 10 * 1000) / baud;
    console.log(
      `  ${r.op.padEnd(9)} ${r.ms.toFixed(0).padStart(7)}   ${String(r.bytesOut).padStart(11)}  ${replyMs.toFixed(0).padStart(13)}  ${(r.ms / replyMs).toFixed(2).padStart(5)}   ${String(r.bytesIn).padStart(13)}  ${allMs.toFixed(0).padStart(17)}`,
    );
  }
  console.log('  (a real line adds the request bytes to the reply bytes: the last column)');
  await served.close();
  socat.kill();
} else {
  console.log('(socat not installed: serial figures skipped)');
}
process.exit(0);
