import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { echoCase, floodCase } from '../../drivers/fuzz-hostile.js';
import { fuzzTarget as integra } from '../../drivers/integra/fuzz-target.js';
import { fuzzTarget as dsc } from '../../drivers/dsc/fuzz-target.js';

/**
 * The hostile-peer cases of the fuzz harness for INTEGRA and DSC (Modbus: its fuzz.test.ts), on
 * in-memory streams: an echo ends in E_ECHO; 4 MB of valid frames answering nothing end in
 * E_FLOOD, and what the driver holds stays under its cap after every 64 KB chunk (checked inside
 * floodCase). `node bench/fuzz.mjs` runs 32 MB floods and also bounds the heap growth.
 */

const FLOOD_BYTES = 4 * 1024 * 1024;

describe.each([integra(fc), dsc(fc)])('$name on a hostile peer', (target) => {
  it('an echoing peer ends the conversation in E_ECHO (exit 5)', async () => {
    // echoCase throws unless the driver ended in E_ECHO, exit 5.
    await expect(echoCase(target)).resolves.toBeUndefined();
  });

  it('a flood ends in E_FLOOD (exit 5) and the driver holds no more than its cap, per byte processed', async () => {
    const result = await floodCase(target, FLOOD_BYTES);
    expect(result.maxHeld).toBeLessThanOrEqual(target.hostile.cap);
    expect(result.bytes).toBeGreaterThan(0);
  });
});
