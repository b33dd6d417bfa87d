// `users list` against a simulated INTEGRA with 240 users: requests sent versus the minimum the protocol
// allows (one list request plus one read per user), and wall time, over TCP and (with socat) over a
// pseudo-terminal paced at 19200 baud versus the time the bytes need on such a line.
import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createSimulator } from '../dist/drivers/integra/simulator.js';
import { serveSerial } from '../dist/src/transport/serial.js';
import { driver } from '../dist/drivers/integra/driver.js';
import { Secret } from '../dist/src/core/secret.js';
import { median } from './lib.mjs';

const USERS = 240;
const runs = Number(process.env.RUNS ?? 5);

/** Counts frames and bytes each way by wrapping the simulator's streams. */
function counting(sim) {
  const counts = { requests: 0, bytesIn: 0, bytesOut: 0 };
  const accept = sim.accept.bind(sim);
  sim.accept = (stream) => {
    const wrapped = {
      ...stream,
      get closed() {
        return stream.closed;
      },
      get description() {
        return stream.description;
      },
      onData: (listener) =>
        stream.onData((chunk) => {
          counts.bytesIn += chunk.length;
          counts.requests += (chunk.toString('latin1').match(/\xfe\r/g) ?? []).length;
          listener(chunk);
        }),
      write: (data) => {
        counts.bytesOut += data.length;
        return stream.write(data);
      },
      onClose: (l) => stream.onClose(l),
      close: () => stream.close(),
    };
    accept(wrapped);
  };
  return counts;
}

async function listOnce(link) {
  const session = await driver.open({ link, secrets: { code: new Secret('1111') }, options: {}, timeoutMs: 10_000 });
  const start = performance.now();
  const users = await session.reader.listUsers();
  const ms = performance.now() - start;
  await session.close();
  return { ms, users: users.length };
}

const sim = await createSimulator({ users: USERS });
const counts = counting(sim);
const server = await sim.listenTcp();
const tcpTimes = [];
let usersSeen = 0;
for (let i = 0; i < runs; i++) {
  Object.assign(counts, { requests: 0, bytesIn: 0, bytesOut: 0 });
  const { ms, users } = await listOnce({ kind: 'tcp', host: '127.0.0.1', port: server.port, url: '' });
  tcpTimes.push(ms);
  usersSeen = users;
}
await server.close();
const minimum = 1 + USERS; // the users list, then one read per user
console.log(`INTEGRA users list, ${USERS} users + 1 master (${usersSeen} listed)`);
console.log(`  requests per list      ${counts.requests}   minimum ${minimum}   ratio ${(counts.requests / minimum).toFixed(3)}`);
console.log(`  (beyond the minimum: 0xE0 to learn who we are, and one 0xE1 for the master)`);
console.log(`  bytes on the wire      ${counts.bytesIn} out, ${counts.bytesOut} back`);
console.log(`  TCP wall time          ${median(tcpTimes).toFixed(1)} ms (median of ${runs})`);

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
  const baud = 19200;
  const paced = await createSimulator({ users: USERS, paceBaud: baud });
  const pacedCounts = counting(paced);
  const served = await serveSerial(a, { baudRate: baud, dataBits: 8, parity: 'none', stopBits: 1 }, (s) => paced.accept(s));
  const { ms } = await listOnce({ kind: 'serial', path: b, baudRate: baud, url: '' });
  // Only the simulator's replies are paced (a pty moves our requests instantly), so compare with the
  // time the reply bytes need; on a real line the requests add their own share, also printed.
  const replyMs = (pacedCounts.bytesOut * 10 * 1000) / baud;
  const requestMs = (pacedCounts.bytesIn * 10 * 1000) / baud;
  console.log(`  serial at ${baud} baud   ${ms.toFixed(0)} ms; the reply bytes need ${replyMs.toFixed(0)} ms at 8N1: ratio ${(ms / replyMs).toFixed(2)}`);
  console.log(`  (a real line adds the request bytes: ${requestMs.toFixed(0)} ms more, ${(replyMs + requestMs).toFixed(0)} ms in all)`);
  await served.close();
  socat.kill();
} else {
  console.log('  (socat not installed: serial figures skipped)');
}
process.exit(0);
