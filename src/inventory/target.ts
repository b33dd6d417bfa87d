import type { DriverOptions } from '../core/contract.js';
import type { Link } from '../core/link.js';
import type { StationConfig } from './schema.js';

/** A panel as the operations need it: where it is, which driver, where its secrets come from. */
export interface Target {
  name: string;
  driver: string;
  link: Link;
  /** Secret name -> reference (env:/file:/prompt), or a literal value for the built-in demo panels only. */
  secretRefs: Record<string, string>;
  /**
   * The reference for the driver's credential given without a name (the inventory's `secret:`, `--secret-from`):
   * it fills the driver's first secret (DriverInfo.secrets[0]), whatever the driver calls it (code, apiToken).
   */
  credentialRef?: string;
  options: DriverOptions;
  tags: Record<string, string>;
  account?: string;
  customer?: string;
  description?: string;
  station?: StationConfig;
  timeoutMs?: number;
  demo: boolean;
}
