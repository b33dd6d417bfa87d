import { setFlagsFromString } from 'node:v8';

/**
 * For a long bulk run: keep V8's heap near what is live. Between two full collections V8 lets the
 * old generation grow to up to 4x what the last one left alive, when collecting is cheap (its heap
 * growing factor). A 10,000-panel apply keeps ~28 MB alive, but every panel's session objects
 * outlive a young-generation collection or two (they wait 5 x 20 ms on the wire) and end up in the
 * old generation as garbage: it grew to ~98 MB before V8 collected it once, 16 s into the run, and
 * peak RSS reached 180 MB (issue 20, `--trace-gc` in bench/bulk-apply.mjs). At 1.5x the old
 * generation is collected about every 3 s, each collection a few ms, and the peak stays near
 * what reading the inventory and the plan took.
 *
 * `--heap-growing-percent` is read each time V8 sets the next limit, so it takes effect at run
 * time (unlike the semi-space size, which is fixed at start-up: measured, issue 20's note).
 * Process-wide and once: only commands that hold a whole fleet in memory call it.
 */
let set = false;
export function keepHeapNearLive(): void {
  if (set) return;
  set = true;
  setFlagsFromString('--heap-growing-percent=50');
}
