import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { echoCase, floodCase } from '../../../drivers/fuzz-hostile.js';
import { fuzzTarget } from '../../../drivers/vista/fuzz-target.js';

/** The VISTA driver on the fuzz harness's hostile peers: an echo ends in E_ECHO, a flood in E_FLOOD with bounded memory. */

describe('vista on a hostile peer', () => {
  const target = fuzzTarget(fc);

  it('an echoing peer ends the conversation in E_ECHO (exit 5)', async () => {
    // echoCase throws unless the driver ended in E_ECHO, exit 5.
    await expect(echoCase(target)).resolves.toBeUndefined();
  });

  it('a flood of lines for other keypads ends in E_FLOOD (exit 5), holding no more than its cap per byte processed', async () => {
    const result = await floodCase(target, 4 * 1024 * 1024);
    expect(result.maxHeld).toBeLessThanOrEqual(target.hostile.cap);
  });

  it('a random valid line decodes, and survives garbage before it once a line end resynchronises', () => {
    fc.assert(
      fc.property(target.frame, fc.uint8Array({ maxLength: 200 }), (frame: Uint8Array, garbage: Uint8Array) => {
        const decoder = target.decoder();
        decoder.push(garbage);
        decoder.push(target.resync());
        expect(target.isGood(decoder.push(frame), frame)).toBe(true);
        expect(target.held(decoder)).toBeLessThanOrEqual(target.cap);
      }),
    );
  });
});
