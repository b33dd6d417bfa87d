/**
 * Every failure the user can see is one of these. The exit code is the contract with
 * scripts (README "Exit codes"); the `code` is a stable machine-readable name; the
 * message is plain words and never contains a secret.
 */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  refused: 3,
  unreachable: 4,
  protocol: 5,
  unsupported: 6,
  partial: 7,
  /** Only with --detailed-exitcode: it worked, but something needs a person (like terraform's -detailed-exitcode). */
  attention: 8,
  /** The person pressed Ctrl-C at a prompt (the shell convention, 128 + SIGINT). */
  cancelled: 130,
  /** Ended by SIGTERM (128 + 15). */
  terminated: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorDetails {
  /** How to fix it, when we know. */
  hint?: string;
  /** Extra machine-readable facts (panel, slot, panel result code...). Never secrets. */
  data?: Record<string, unknown>;
  cause?: unknown;
}

export class PanelctlError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly code: string;
  readonly hint?: string;
  readonly data?: Record<string, unknown>;

  constructor(exitCode: ExitCodeValue, code: string, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.code = code;
    this.hint = details.hint;
    this.data = details.data;
  }

  /**
   * The JSON error: `errorCode` names the error (not a PIN); `code` is the same value, kept as a
   * deprecated alias until the next major version (README "Output shapes").
   */
  toJSON(): Record<string, unknown> {
    return { errorCode: this.code, code: this.code, message: this.message, exitCode: this.exitCode, hint: this.hint, ...this.data };
  }
}

/** Exit 2: the input is wrong; nothing was sent to any panel. */
export class UsageError extends PanelctlError {
  constructor(message: string, details?: ErrorDetails & { code?: string }) {
    super(ExitCode.usage, details?.code ?? 'E_USAGE', message, details);
  }
}

/** Exit 2: one named field broke one named rule. */
export class ValidationError extends UsageError {
  readonly field: string;
  readonly rule: string;
  constructor(field: string, rule: string, details?: ErrorDetails) {
    super(`${field}: ${rule}`, { ...details, code: 'E_INVALID', data: { field, rule, ...details?.data } });
    this.field = field;
    this.rule = rule;
  }
}

/** Exit 3: the panel understood and said no (rights, code exists, slot taken...). */
export class PanelRefusedError extends PanelctlError {
  constructor(code: string, message: string, details?: ErrorDetails) {
    super(ExitCode.refused, code, message, details);
  }
}

/**
 * Exit 3, and special: the credential itself was rejected. Panels lock out after a few of
 * these, so whoever sees one must stop using that credential on that panel.
 */
export class WrongCredentialError extends PanelRefusedError {
  constructor(message: string, details?: ErrorDetails) {
    super('E_WRONG_CREDENTIAL', message, {
      hint: 'check the credential configured for this panel; panelctl will not retry it, to avoid a keypad lockout',
      ...details,
    });
  }
}

/** Exit 4: we could not reach the panel, or lost it (timeout, refused, reset, unplugged, busy). */
export class UnreachableError extends PanelctlError {
  /** Worth retrying later (bulk uses this). */
  readonly transient: boolean;
  constructor(code: string, message: string, details?: ErrorDetails & { transient?: boolean }) {
    super(ExitCode.unreachable, code, message, details);
    this.transient = details?.transient ?? true;
  }
}

/**
 * Exit 4, code E_TLS: no trusted TLS connection to the panel. `side` says whose certificate is the problem: the
 * panel's (`server`: untrusted, wrong pin, wrong name, expired), ours (`client`: missing or refused), or neither
 * (`handshake`: no common protocol, plain HTTP on an https port). Retrying does not help, so it is not transient.
 */
export class TlsError extends UnreachableError {
  readonly side: 'server' | 'client' | 'handshake';
  constructor(side: 'server' | 'client' | 'handshake', message: string, details?: ErrorDetails) {
    super('E_TLS', message, { ...details, transient: false, data: { tlsSide: side, ...details?.data } });
    this.side = side;
  }
}

/** Exit 5: bytes arrived that make no sense (CRC, malformed frame, unexpected answer), or a write did not read back. */
export class ProtocolError extends PanelctlError {
  constructor(message: string, details?: ErrorDetails & { code?: string }) {
    super(ExitCode.protocol, details?.code ?? 'E_PROTOCOL', message, details);
  }
}

/** Exit 5: the panel accepted a write but reading it back shows something else. */
export class VerificationError extends ProtocolError {
  constructor(message: string, details?: ErrorDetails) {
    super(message, { ...details, code: 'E_VERIFY' });
  }
}

/** Exit 6: this driver or panel cannot do that. */
export class NotSupportedError extends PanelctlError {
  constructor(message: string, details?: ErrorDetails) {
    super(ExitCode.unsupported, 'E_UNSUPPORTED', message, details);
  }
}

export function isTransient(error: unknown): boolean {
  return error instanceof UnreachableError && error.transient;
}

/** Wraps anything thrown into a PanelctlError so callers handle one type. */
export function toPanelctlError(error: unknown): PanelctlError {
  if (error instanceof PanelctlError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new PanelctlError(ExitCode.unexpected, 'E_UNEXPECTED', `unexpected failure: ${message}`, { cause: error });
}
