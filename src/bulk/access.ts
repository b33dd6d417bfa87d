import type { DriverInfo } from '../core/contract.js';
import type { Target } from '../inventory/targets.js';
import type { OperationContext } from '../operations/context.js';
import { describeTarget, openPanel, type OpenPanel } from '../operations/session.js';

/**
 * How bulk reaches a panel: the driver's description (no connection) and an open session.
 * Normally the driver registry through openPanel, which also takes the panel's work lock (held
 * until the session is closed, so no other panelctl process writes that panel meanwhile); a
 * harness can pass its own (the benchmark and the kill -9 tests with fake panels do).
 */
export interface PanelAccess {
  describe(target: Target, ctx: OperationContext): Promise<DriverInfo>;
  open(target: Target, ctx: OperationContext): Promise<OpenPanel>;
}

/** Bulk reads and writes users: only the secrets that needs are read or asked for. */
export const defaultAccess: PanelAccess = { describe: describeTarget, open: (target, ctx) => openPanel(target, ctx, 'users') };
