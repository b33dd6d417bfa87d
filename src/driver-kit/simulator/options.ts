import type { SimulatorOptions } from '../../core/contract.js';

/** `--set name=value` options of a simulator, with a fallback when absent. */
export function simOption<T>(options: SimulatorOptions, name: string, fallback: T): T {
  const value = options.options?.[name];
  return (value === undefined ? fallback : value) as T;
}

/** A numeric `--set` option (`--set latencyMs=200` arrives as a number, a quoted one as text). */
export function simNumber(options: SimulatorOptions, name: string, fallback = 0): number {
  return Number(options.options?.[name] ?? fallback);
}
