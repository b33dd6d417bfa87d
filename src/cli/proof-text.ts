import type { Proof } from '../core/contract.js';

/** A write's proof in the JSON results: `verified` stays true only for a write that was checked on the panel. */
export function proofJson(proof: Proof): { verified: boolean; proof: Proof } {
  return { verified: proof !== 'panel-ack', proof };
}

/**
 * The words after "✓ added ...": what the tick stands for. A write the panel acknowledged but that
 * cannot be read back is said to be exactly that, so nobody takes it for a checked one.
 */
export function proofWords(proof: Proof, verified: string): string {
  return proof === 'panel-ack' ? 'acknowledged by the panel, not read back: this panel cannot read users, so try the code at the keypad' : verified;
}
