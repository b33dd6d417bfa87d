import type { SecretPrompt } from '../inventory/secrets.js';

/** What every operation needs to know about who is acting and how. Built once by the CLI. */
export interface OperationContext {
  operator: string;
  ticket?: string;
  stateDir: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Present only on a terminal: operations never prompt otherwise. */
  promptSecret?: SecretPrompt;
  /** Shows what is happening (a spinner on a terminal); returns a function that clears it. */
  activity?: (text: string) => () => void;
  trace?: (direction: 'tx' | 'rx', text: string) => void;
}
