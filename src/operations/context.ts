import type { DriverRegistry } from '../core/contract.js';
import type { SecretPrompt } from '../inventory/secrets.js';
import type { WorkLockStore } from '../state/work-locks.js';

/** What every operation needs to know about who is acting and how. Built once by the CLI. */
export interface OperationContext {
  operator: string;
  /** The drivers there are (injected by the CLI's composition root; tests add their own). */
  drivers: DriverRegistry;
  ticket?: string;
  stateDir: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Present only on a terminal: operations never prompt otherwise. */
  promptSecret?: SecretPrompt;
  /** Shows what is happening (a spinner on a terminal); returns a function that clears it. */
  activity?: (text: string) => Activity;
  trace?: (direction: 'tx' | 'rx', text: string) => void;
  /** A line for the operator on stderr in every output format (why a command waits before talking to a panel). */
  notice?: (text: string) => void;
  /** The command being run ("users set-code"), shown to whoever finds a panel locked by it. */
  command?: string;
  /** Per-panel work locks; the files store in the state dir unless a shared store is configured. */
  workLocks?: WorkLockStore;
  /** Facts about this run that every audit entry it writes carries (e.g. a --link over the inventory's). */
  auditDetails?: Record<string, string>;
}

/** Clears the activity when called; `update` changes its text (progress of a long read). */
export type Activity = (() => void) & { update?: (text: string) => void };
