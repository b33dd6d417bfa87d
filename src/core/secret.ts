import { inspect } from 'node:util';
import { createRequire } from 'node:module';

// node:crypto is loaded on the first comparison, not at start-up: every command imports this
// module (crash messages are scrubbed of secrets) and crypto costs a few ms that --help never needs.
// The require() itself is made then too (comparisons are rare): in the bundle, node:module loads on first use
// (scripts/build.mjs).

/**
 * A code, password or key. The value lives in a module-private WeakMap, not on the
 * object, so console.log, util.inspect, JSON.stringify, template strings and error
 * serialisers all see only a mask. The one way out is reveal(), which drivers call
 * at the moment they encode the value onto the wire.
 */
const values = new WeakMap<Secret, string>();
/** Every secret value seen in this process, so crash messages can be scrubbed of them. */
const liveValues = new Set<string>();

export const SECRET_MASK = '[secret]';

export class Secret {
  /** What the secret is, for messages: "user code", "TPI password". Never the value. */
  readonly label: string;

  constructor(value: string, label = 'code') {
    values.set(this, value);
    if (value.length >= 3) liveValues.add(value);
    this.label = label;
  }

  reveal(): string {
    return values.get(this) as string;
  }

  get length(): number {
    return this.reveal().length;
  }

  /** Constant-time comparison, so a check does not leak through timing. */
  equals(other: Secret): boolean {
    const a = Buffer.from(this.reveal());
    const b = Buffer.from(other.reveal());
    return a.length === b.length && (createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).timingSafeEqual(a, b);
  }

  toString(): string {
    return SECRET_MASK;
  }

  toJSON(): string {
    return SECRET_MASK;
  }

  [inspect.custom](): string {
    return `Secret<${this.label}>`;
  }

  [Symbol.toPrimitive](): string {
    return SECRET_MASK;
  }
}

/** Named secrets a driver needs: 'code' (the credential used to authorise), 'tpiPassword', 'installer', ... */
export type Secrets = Readonly<Record<string, Secret | undefined>>;

/** Replaces every secret value this process has held with a mask (for crash reports). */
export function scrubSecrets(text: string): string {
  let result = text;
  for (const value of [...liveValues].sort((a, b) => b.length - a.length)) result = result.split(value).join(SECRET_MASK);
  return result;
}
