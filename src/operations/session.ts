import type { DriverInfo, PanelSession, SecretUse } from '../core/contract.js';
import { facetMismatch } from './facets.js';
import { ExitCode, PanelctlError, UsageError, ValidationError, toPanelctlError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { linkIdentity, transportOf } from '../core/link.js';
import { resolveSecretRef } from '../inventory/secrets.js';
import type { Target } from '../inventory/targets.js';
import { workLocksFor, type WorkLock } from '../state/work-locks.js';
import { localTime } from '../output/time.js';
import type { OperationContext } from './context.js';

export interface OpenPanel {
  session: PanelSession;
  /** The driver's description; the session offers exactly the facets it declares (checked at open). */
  info: DriverInfo;
  /** The secrets this session was opened with (for policy checks such as duress neighbours; never shown). */
  secrets: readonly Secret[];
  /**
   * Ends the connection (and a demo panel's simulator) but keeps the panel's work lock: bulk hangs
   * up once a panel's last exchange is over, and keeps the lock until what it recorded about the
   * panel is on disk (src/bulk/apply.ts). Optional for a harness's own access; close() suffices.
   */
  hangUp?(): Promise<void>;
  /** Hangs up (if not done yet) and releases the work lock. */
  close(): Promise<void>;
}

/** The driver's description, without connecting (so the CLI can refuse unsupported actions early). */
export async function describeTarget(target: Target, ctx: Pick<OperationContext, 'drivers'>): Promise<DriverInfo> {
  const driver = await ctx.drivers.load(target.driver);
  return driver.describeFor ? driver.describeFor(target.options) : driver.describe();
}

/** The secrets `use` needs (all of them when the use is not said), read or asked for in the driver's order. */
async function gatherSecrets(target: Target, info: DriverInfo, ctx: OperationContext, use?: SecretUse): Promise<Record<string, Secret>> {
  const secrets: Record<string, Secret> = {};
  for (const [index, wanted] of info.secrets.entries()) {
    if (use && wanted.neededFor && !wanted.neededFor.includes(use)) continue;
    // The credential given without a name (`secret:`, --secret-from) is the driver's first secret.
    const ref = target.secretRefs[wanted.name] ?? (index === 0 ? target.credentialRef : undefined);
    if (ref) {
      secrets[wanted.name] = await resolveSecretRef(ref, `${wanted.label} for ${target.name}`, ctx.promptSecret);
    } else if (wanted.required) {
      if (!ctx.promptSecret) {
        throw new UsageError(`panel "${target.name}" has no ${index === 0 ? 'secret' : `secrets.${wanted.name}`} configured (${wanted.label})`, {
          code: 'E_SECRET_MISSING',
          hint: 'add it to the inventory as env:VARIABLE or file:PATH, or run on a terminal to be asked',
        });
      }
      secrets[wanted.name] = await resolveSecretRef('prompt', `${wanted.label} for ${target.name}`, ctx.promptSecret);
    }
  }
  return secrets;
}

/** The driver's secrets this panel's inventory entry configures (the unnamed credential is the first). */
export function configuredSecrets(target: Target, info: DriverInfo): string[] {
  return info.secrets.filter((wanted, index) => target.secretRefs[wanted.name] ?? (index === 0 ? target.credentialRef : undefined)).map((w) => w.name);
}

/**
 * What makes two targets one physical panel: the same driver on the same link (and Modbus unit).
 * Names differ between inventories and ad hoc --link runs; the cable or address does not.
 */
export function panelKey(target: Target): string {
  if (target.demo) return `demo:${target.name}`;
  return `${target.driver}|${linkIdentity(target.link)}|${target.options.unit ?? ''}`;
}

/** The per-panel work lock, held from connecting until the session is closed (exit 4 naming the holder if taken). */
export function lockPanel(target: Target, ctx: OperationContext): Promise<WorkLock> {
  const store = ctx.workLocks ?? workLocksFor(ctx.stateDir);
  return store.acquire(panelKey(target), { panel: target.name, command: ctx.command, operator: ctx.operator, ticket: ctx.ticket });
}

/**
 * Connects to a panel (starting the simulator first for a demo panel), holding the panel's work
 * lock until close(): no two panelctl processes talk to one panel at once.
 */
export async function openPanel(target: Target, ctx: OperationContext, use?: SecretUse): Promise<OpenPanel> {
  const lock = await lockPanel(target, ctx);
  try {
    return await openLocked(target, ctx, lock, use);
  } catch (error) {
    await lock.release().catch(() => undefined);
    throw error;
  }
}

async function openLocked(target: Target, ctx: OperationContext, lock: WorkLock, use?: SecretUse): Promise<OpenPanel> {
  const driverModule = await ctx.drivers.load(target.driver);
  const info = driverModule.describeFor ? await driverModule.describeFor(target.options) : driverModule.describe();
  // A link this driver cannot use (https:// for a byte protocol) is bad input: refused before secrets or the panel.
  if (!target.demo && !info.transports.includes(transportOf(target.link))) {
    throw new ValidationError(
      `panel "${target.name}" link`,
      `the ${info.name} driver talks over ${info.transports.map((t) => `${t}://`).join(' or ')}, not ${transportOf(target.link)}://`,
    );
  }
  let link = target.link;
  let secrets: Record<string, Secret>;
  let stopDemo: (() => Promise<void>) | undefined;
  if (target.demo) {
    const { startDemo } = await import('../inventory/demo.js');
    const demo = await startDemo(target, ctx.drivers);
    link = demo.link;
    secrets = demo.secrets as Record<string, Secret>;
    stopDemo = demo.close;
  } else {
    secrets = await gatherSecrets(target, info, ctx, use);
  }
  const done = ctx.activity?.(`connecting to ${target.name}`);
  try {
    const session = await driverModule.open({
      link,
      secrets,
      configuredSecrets: target.demo ? Object.keys(secrets) : configuredSecrets(target, info),
      options: target.options,
      timeoutMs: target.timeoutMs ?? ctx.timeoutMs,
      signal: ctx.signal,
      trace: ctx.trace,
      lastContactAt: lock.lastContactAt,
      quietUntil: lock.quietUntil,
      // Waiting before the first request, for a silence the panel asked of the previous session: say why and until
      // when, once the spinner is gone (its next frame would erase a line written under it).
      onQuiet: ({ until, why }) => {
        done?.();
        ctx.notice?.(`${target.name} ${why}; waiting until ${localTime(until)} before the first request (Ctrl-C to stop)`);
      },
    });
    const mismatch = facetMismatch(info, session);
    if (mismatch) {
      await session.close().catch(() => undefined);
      throw new PanelctlError(ExitCode.unexpected, 'E_DRIVER_BUG', `the ${info.name} driver's session ${mismatch} (a driver bug)`);
    }
    let hungUp: Promise<void> | undefined;
    const hangUp = () => {
      hungUp ??= (async () => {
        try {
          await session.close();
        } finally {
          await stopDemo?.();
        }
      })();
      return hungUp;
    };
    return {
      session,
      info,
      secrets: Object.values(secrets),
      hangUp,
      async close() {
        try {
          await hangUp();
        } finally {
          await lock.release({ lastContactAt: session.lastContactAt?.(), quietUntil: session.quietUntil?.() });
        }
      },
    };
  } catch (error) {
    await stopDemo?.();
    throw toPanelctlError(error);
  } finally {
    done?.();
  }
}

/** Opens, runs `work`, and always closes: the panel accepts one client, so hold it no longer than needed. */
export async function withPanel<T>(target: Target, ctx: OperationContext, work: (panel: OpenPanel) => Promise<T>, use?: SecretUse): Promise<T> {
  const panel = await openPanel(target, ctx, use);
  const done = ctx.activity?.(`talking to ${target.name}`);
  try {
    return await work(panel);
  } finally {
    done?.();
    await panel.close().catch(() => undefined);
  }
}
