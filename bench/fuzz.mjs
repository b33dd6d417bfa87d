// Fuzzes every driver's decoder with random and mutated frames (100,000 per decoder by default):
// no exception may escape, the buffer must stay bounded, and a good frame after the garbage must
// still decode. Prints throughput per decoder. FUZZ_RUNS=1000000 for a nightly run.
// Then the hostile peers (drivers/fuzz-hostile.ts): an echo must end in E_ECHO, and a flood of
// FLOOD_MB (32) megabytes of valid frames answering nothing in E_FLOOD, with what the driver holds
// under its cap after every chunk and the heap growth under HEAP_BOUND_MB (64) for the whole flood.
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100_000);
const FLOOD_BYTES = Number(process.env.FLOOD_MB ?? 32) * 1024 * 1024;
const HEAP_BOUND = Number(process.env.HEAP_BOUND_MB ?? 64) * 1024 * 1024;

/** Each target: how to make a decoder, a valid frame from random input, and how much the decoder holds. */
const { noisyFrames } = await import('../dist/drivers/fuzz-noise.js');

async function targets() {
  const list = [];
  for (const driver of ['integra', 'dsc', 'modbus']) {
    const codec = await import(`../dist/drivers/${driver}/fuzz-target.js`);
    list.push(codec.fuzzTarget(fc));
  }
  return list;
}

for (const target of await targets()) {
  const input = noisyFrames(fc, target.frame);
  const start = performance.now();
  let maxHeld = 0;
  fc.assert(
    fc.property(fc.array(input, { minLength: 1, maxLength: 4 }), target.frame, (chunks, good) => {
      const decoder = target.decoder();
      for (const chunk of chunks) {
        decoder.push(chunk);
        maxHeld = Math.max(maxHeld, target.held(decoder));
        if (target.held(decoder) > target.cap) throw new Error(`${target.name}: buffer grew to ${target.held(decoder)}`);
      }
      const sync = target.resync ? target.resync() : Uint8Array.of();
      const out = decoder.push(Uint8Array.from([...sync, ...good]));
      if (!target.isGood(out, good)) throw new Error(`${target.name}: a good frame after garbage did not decode`);
    }),
    { numRuns: RUNS },
  );
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${target.name.padEnd(8)} ${RUNS} cases (random, mutated and valid frames): no exception, largest buffer ${maxHeld} of cap ${target.cap}, ${(RUNS / seconds).toFixed(0)} cases/s`,
  );
}

const { echoCase, floodCase } = await import('../dist/drivers/fuzz-hostile.js');
for (const target of await targets()) {
  await echoCase(target);
  const flood = await floodCase(target, FLOOD_BYTES);
  const mb = (n) => (n / 1024 / 1024).toFixed(1);
  if (flood.heapDelta > HEAP_BOUND)
    throw new Error(`${target.name}: the heap grew ${mb(flood.heapDelta)} MB over a ${mb(flood.bytes)} MB flood (bound ${mb(HEAP_BOUND)} MB)`);
  console.log(
    `${target.name.padEnd(8)} echo: E_ECHO; flood: E_FLOOD after ${mb(flood.bytes)} MB processed, held at most ${flood.maxHeld} of cap ${target.hostile.cap}, heap ${flood.heapDelta >= 0 ? '+' : ''}${mb(flood.heapDelta)} MB`,
  );
}
