import type * as FastCheck from 'fast-check';

/**
 * The input of the decoder fuzz harness (bench/fuzz.mjs, the drivers' fuzz tests): random bytes, valid frames,
 * and valid frames with up to six bytes flipped, inserted, deleted or repeated (a 4-byte run doubled). fast-check
 * is passed in, as to each driver's fuzz target, so that nothing shipped depends on it.
 */
export function noisyFrames(fc: typeof FastCheck, frames: FastCheck.Arbitrary<Uint8Array>): FastCheck.Arbitrary<Uint8Array> {
  const edit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'insert', 'delete', 'dup'));
  const mutated = fc.tuple(frames, fc.array(edit, { maxLength: 6 })).map(([frame, edits]) => {
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
  return fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated, frames);
}
