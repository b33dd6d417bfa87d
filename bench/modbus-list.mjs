// `users list` against a simulated Modbus access controller with 1,000 user slots (the demo-modbus
// profile): requests sent versus the fewest the profile's limits allow (worked out here by an
// exhaustive search, not by the driver's planner), wall time over Modbus TCP, and over RTU on a
// socat pseudo-terminal pair paced at 9600 baud versus the time those bytes need on such a line.
import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createSimulator } from '../dist/drivers/modbus/simulator.js';
import { driver } from '../dist/drivers/modbus/driver.js';
import { loadProfile } from '../dist/drivers/modbus/profile.js';
import { serveSerial } from '../dist/src/transport/serial.js';
import { median } from './lib.mjs';

const runs = Number(process.env.RUNS ?? 5);
const baud = 9600;
const BITS_PER_CHAR = 11; // Modbus RTU: start, 8 data, parity (or a second stop), stop
const { profile } = await loadProfile('demo-modbus');
const u = profile.users;
const maxRead = profile.limits.maxReadRegisters;

/** The registers a listing needs: flags, name, type, partitions (and the code only without a codeSet bit). */
function neededAddresses() {
  const fields = [
    [u.flags.offset, 1],
    [u.name.offset, u.name.registers],
  ];
  if (u.type) fields.push([u.type.offset, 1]);
  if (u.partitions) fields.push([u.partitions.offset, u.partitions.registers]);
  if (u.flags.codeSet === undefined) fields.push([u.code.offset, u.code.registers]);
  const out = new Set();
  for (let i = 0; i < u.slots; i++) for (const [offset, n] of fields) for (let k = 0; k < n; k++) out.add(u.base + i * u.stride + offset + k);
  return [...out].sort((a, b) => a - b);
}

/** Fewest reads of at most `max` registers covering every address: dynamic programming over all choices. */
function fewestReads(addresses, max) {
  const best = new Array(addresses.length + 1).fill(Infinity);
  best[0] = 0;
  for (let i = 0; i < addresses.length; i++) {
    for (let j = i; j < addresses.length && addresses[j] - addresses[i] < max; j++) best[j + 1] = Math.min(best[j + 1], best[i] + 1);
  }
  return best[addresses.length];
}

async function listOnce(link, sim) {
  const session = await driver.open({ link, secrets: {}, options: { profile: 'demo-modbus', unit: 1 }, timeoutMs: 10_000 });
  const before = { ...sim.stats };
  const start = performance.now();
  const users = await session.reader.listUsers();
  const ms = performance.now() - start;
  await session.close();
  return {
    ms,
    users: users.length,
    requests: sim.stats.requests - before.requests,
    bytesIn: sim.stats.bytesIn - before.bytesIn,
    bytesOut: sim.stats.bytesOut - before.bytesOut,
  };
}

const minimum = fewestReads(neededAddresses(), maxRead);
const straight = Math.ceil(((u.slots - 1) * u.stride + u.name.offset + u.name.registers) / maxRead);

const sim = await createSimulator({ users: u.slots });
const server = await sim.listenTcp();
const tcp = [];
let last;
for (let i = 0; i < runs; i++) {
  last = await listOnce({ kind: 'tcp', host: '127.0.0.1', port: server.port, url: '' }, sim);
  tcp.push(last.ms);
}
await server.close();
await sim.close();

console.log(`Modbus users list, profile demo-modbus: ${u.slots} slots x ${u.stride} registers, ${last.users} users, at most ${maxRead} registers a read`);
console.log(`  requests per list      ${last.requests}   minimum ${minimum}   ratio ${(last.requests / minimum).toFixed(2)}`);
console.log(`  (reading the table straight through would take ${straight}; one read per slot ${u.slots})`);
console.log(`  bytes on the wire      ${last.bytesIn} out, ${last.bytesOut} back`);
console.log(`  TCP wall time          ${median(tcp).toFixed(1)} ms (median of ${runs})`);

if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0) {
  const socat = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const [a, b] = await new Promise((resolve) =>
    socat.stderr.on('data', (d) => {
      err += d;
      const p = [...err.matchAll(/PTY is (\S+)/g)].map((m) => m[1]);
      if (p.length === 2 && /transfer loop/.test(err)) resolve(p);
    }),
  );
  const settings = { baudRate: baud, dataBits: 8, parity: 'even', stopBits: 1 };
  const paced = await createSimulator({ users: u.slots, paceBaud: baud, options: { mode: 'rtu' } });
  const served = await serveSerial(a, settings, (s) => paced.accept(s));
  console.log(`  RTU at ${baud} baud 8E1 on a paced pty: listing (about ${Math.round((last.bytesOut * BITS_PER_CHAR) / baud)} s of replies)...`);
  const rtu = await listOnce({ kind: 'serial', path: b, url: '', ...settings }, paced);
  // Only the simulator's replies are paced (the pty moves our requests instantly), so compare with
  // the time the reply bytes need; on a real line the requests and 3.5-character gaps add their share.
  const replyMs = (rtu.bytesOut * BITS_PER_CHAR * 1000) / baud;
  const requestMs = (rtu.bytesIn * BITS_PER_CHAR * 1000) / baud;
  const gapsMs = (rtu.requests * 2 * 3.5 * BITS_PER_CHAR * 1000) / baud;
  console.log(
    `  RTU wall time          ${rtu.ms.toFixed(0)} ms for ${rtu.requests} requests; the reply bytes need ${replyMs.toFixed(0)} ms: ratio ${(rtu.ms / replyMs).toFixed(2)}`,
  );
  console.log(
    `  (a real line adds the requests, ${requestMs.toFixed(0)} ms, and the 3.5-character gaps, ${gapsMs.toFixed(0)} ms: ${(replyMs + requestMs + gapsMs).toFixed(0)} ms in all)`,
  );
  await served.close();
  await paced.close();
  socat.kill();
} else {
  console.log('  (socat not installed: serial figures skipped)');
}
process.exit(0);
