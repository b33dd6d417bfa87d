// Fuzzes every driver's decoder with random and mutated frames (100,000 per decoder by default):
// no exception may escape, the buffer must stay bounded, and a good frame after the garbage must
// still decode. Prints throughput per decoder. FUZZ_RUNS=1000000 for a nightly run.
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100_000);

/** Each target: how to make a decoder, a valid frame from random input, and how much the decoder holds. */
async function targets() {
  const list = [];
  const integra = await import('../dist/drivers/integra/codec.js');
  list.push({
    name: 'integra',
    decoder: () => new integra.IntegraDecoder(),
    frame: fc.tuple(fc.integer({ min: 0, max: 0xfd }), fc.uint8Array({ maxLength: 48 })).map(([cmd, data]) => integra.encodeFrame(cmd, data)),
    held: (d) => d.body.length,
    cap: integra.MAX_FRAME,
    isGood: (out, frame) => out.some((f) => f.kind === 'frame') && frame.length > 0,
  });
  for (const extra of ['dsc', 'modbus']) {
    try {
      const codec = await import(`../dist/drivers/${extra}/fuzz-target.js`);
      list.push(codec.fuzzTarget(fc));
    } catch {
      console.log(`(${extra}: no fuzz target yet)`);
    }
  }
  return list;
}

function mutate(frames) {
  return fc.tuple(frames, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'insert', 'delete', 'dup')), { maxLength: 6 })).map(([frame, edits]) => {
    const bytes = [...frame];
    for (const [where, value, kind] of edits) {
      const i = bytes.length ? where % bytes.length : 0;
      if (kind === 'flip') bytes[i] = value;
      else if (kind === 'insert') bytes.splice(i, 0, value);
      else if (kind === 'delete') bytes.splice(i, 1);
      else bytes.splice(i, 0, ...bytes.slice(i, i + 4));
    }
    return Uint8Array.from(bytes);
  });
}

for (const target of await targets()) {
  const input = fc.oneof(fc.uint8Array({ maxLength: 300 }), mutate(target.frame), target.frame);
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
  console.log(`${target.name.padEnd(8)} ${RUNS} cases (random, mutated and valid frames): no exception, largest buffer ${maxHeld} of cap ${target.cap}, ${(RUNS / seconds).toFixed(0)} cases/s`);
}
