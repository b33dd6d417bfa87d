import type { DriverInfo, PanelInfo, UserSlot } from '../../core/contract.js';
import { WrongCredentialError, toPanelctlError } from '../../core/errors.js';
import type { OperationContext } from '../../operations/context.js';
import type { Target } from '../../inventory/targets.js';
import type { InventoryFile } from '../../inventory/schema.js';
import { listUsers, panelInfo } from '../../operations/users.js';
import { describeTarget } from '../../operations/session.js';
import { readerMissing } from '../../operations/user-steps.js';
import { renderTable } from '../../output/table.js';
import { userColumns } from '../actions/users.js';
import type { Cli } from '../context.js';
import { askSecret, askText } from '../prompts.js';
import { readLease } from '../../state/leases.js';
import { localTime } from '../../output/time.js';
import { busy, isCancel, paused } from './ui.js';

/** A panel as the shell holds it between actions: what it is, what it can do, its users as last read. */
export interface PanelView {
  target: Target;
  /** The driver's description narrowed by what the panel itself reported (a Modbus profile's slots and code lengths). */
  info: DriverInfo;
  /** What the panel itself reported when the shell connected (model, firmware, its capabilities as configured). */
  panelInfo: PanelInfo;
  users: UserSlot[];
}

/**
 * What lasts for one interactive session: the CLI's context, who is acting and for which
 * ticket (asked once, before the first change), credentials typed at a prompt (kept in memory
 * for this session so each reconnect does not ask again), and panels whose credential was refused.
 */
export class ShellSession {
  readonly cli: Cli;
  private readonly inventory: InventoryFile;
  private identityAsked = false;
  private readonly typedCredentials = new Map<string, string>();
  /** Panels that refused their credential: not tried again this session (keypads lock out after a few). */
  readonly refused = new Set<string>();
  /** Wrong typed credentials per panel this session: a typed one may be retyped, short of the panel's lockout. */
  private readonly wrongTyped = new Map<string, number>();
  /** Panels this session put on test, and the panel open at "Quit": checked for a lease before the shell ends. */
  readonly testsToRemind = new Map<string, Target>();
  /** The answers of an "Add a user" that did not happen, offered as defaults next time on that panel. */
  addDraft?: { panel: string; name: string; slot?: number; partitions?: number[] };

  constructor(cli: Cli, inventory: InventoryFile) {
    this.cli = cli;
    this.inventory = inventory;
    if (!cli.globals.operator && !process.env.PANELCTL_OPERATOR && inventory.defaults?.operator) cli.ctx.operator = inventory.defaults.operator;
  }

  get out() {
    return this.cli.out;
  }

  /** The context for looking only (connect, list, read): no prompts for who or why. */
  readContext(signal?: AbortSignal): OperationContext {
    return { ...this.cli.ctx, activity: undefined, signal, promptSecret: (label) => this.credential(label) };
  }

  /** The context for a change: the same one the flags build, with operator and ticket settled first. */
  async writeContext(): Promise<OperationContext> {
    if (!this.identityAsked) {
      const ctx = this.cli.ctx;
      const operatorGiven = Boolean(this.cli.globals.operator || process.env.PANELCTL_OPERATOR || this.inventory.defaults?.operator);
      const ticketGiven = Boolean(this.cli.globals.ticket || process.env.PANELCTL_TICKET);
      const operator = operatorGiven
        ? ctx.operator
        : (await askText('Your name, for the audit log:', { default: ctx.operator, validate: (v) => (v.trim() ? true : 'a name is needed') })).trim();
      const ticket = ticketGiven ? ctx.ticket : (await askText('Ticket for this call (Enter for none):')).trim() || undefined;
      // Only now, so Ctrl-C at either question asks both again next time.
      ctx.operator = operator;
      ctx.ticket = ticket;
      this.identityAsked = true;
    }
    return this.readContext(undefined);
  }

  /** A credential typed at a prompt, asked once per panel per session. */
  private async credential(label: string): Promise<string> {
    const known = this.typedCredentials.get(label);
    if (known !== undefined) return known;
    const typed = await paused(() => askSecret(label));
    this.typedCredentials.set(label, typed);
    return typed;
  }

  /**
   * After a refused credential: forget what was typed for it. A configured credential (env:,
   * file:) is not tried again this session; a typed one may be typed again, up to one wrong entry
   * short of the panel's lockout (INTEGRA: 3; unknown: 3 assumed). Returns what to tell the person.
   */
  noteFailure(target: Target, error: unknown, info?: DriverInfo): string | undefined {
    if (!(error instanceof WrongCredentialError)) return undefined;
    const typed = [...this.typedCredentials.keys()].filter((label) => label.endsWith(` for ${target.name}`));
    for (const label of typed) this.typedCredentials.delete(label);
    const lockout = info?.credentialLockout;
    const why = lockout ? ` (${lockout.note})` : ' (panels lock keypads after wrong codes)';
    if (!typed.length) {
      this.refused.add(target.name);
      return `panelctl will not use the configured credential on ${target.name} again in this session${why}; fix it in the inventory`;
    }
    const wrong = (this.wrongTyped.get(target.name) ?? 0) + 1;
    this.wrongTyped.set(target.name, wrong);
    const allowed = Math.max(1, (lockout?.attempts ?? 3) - 1);
    if (wrong >= allowed) {
      this.refused.add(target.name);
      return `${wrong} wrong entries on ${target.name}: panelctl will not try it again in this session${why}`;
    }
    return `the credential typed for ${target.name} was refused (${wrong} wrong entr${wrong === 1 ? 'y' : 'ies'} so far; panelctl stops at ${allowed})${why}. Choose the panel again to type it again.`;
  }

  /** An `env:` secret that is not set: typed at a prompt for the rest of this session instead. */
  typeInsteadOf(target: Target, variable: string): void {
    for (const [name, ref] of Object.entries(target.secretRefs)) if (ref === `env:${variable}`) target.secretRefs[name] = 'prompt';
    if (target.credentialRef === `env:${variable}`) target.credentialRef = 'prompt';
  }

  /** Connects: what the panel is, then its users (two read-only operations; Ctrl-C aborts them). */
  async openPanel(target: Target): Promise<PanelView> {
    const described = await describeTarget(target, this.cli.ctx);
    const { result: reported } = await busy(`connecting to ${target.name}`, 'read', (signal) => panelInfo(target, this.readContext(signal)));
    const info: DriverInfo = { ...described, slotRanges: reported.slotRanges, codeRules: reported.codeRules };
    const panel: PanelView = { target, info, panelInfo: reported, users: [] };
    this.showPanel(panel);
    await this.refreshUsers(panel);
    return panel;
  }

  /** Reads the users afresh (Ctrl-C aborts the read) and shows them. */
  async refreshUsers(panel: PanelView): Promise<void> {
    if (!panel.info.facets.reader) {
      // Nothing to read: say so once, and keep offering what works (writes by slot, acknowledged by the panel).
      panel.users = [];
      const missing = readerMissing(panel.info, 'show its users');
      this.out.note(`${missing.message}; ${missing.hint}`);
      return;
    }
    const { result } = await busy(`reading the users of ${panel.target.name}`, 'read', (signal) => listUsers(panel.target, this.readContext(signal)));
    panel.users = result;
    await this.showUsers(panel);
  }

  /** After a verified change: Ctrl-C or a failure while re-reading must not read as "nothing was changed". */
  async refreshAfterChange(panel: PanelView): Promise<void> {
    try {
      await this.refreshUsers(panel);
    } catch (error) {
      const why = isCancel(error) ? 'cancelled' : toPanelctlError(error).message;
      this.out.note(`the users were not read again (${why}); the change above is done and verified`);
    }
  }

  async showUsers(panel: PanelView): Promise<void> {
    const { color } = this.out;
    const lease = await readLease(this.cli.ctx.stateDir, panel.target.name).catch(() => undefined);
    if (lease) {
      const overdue = Date.parse(lease.until) < Date.now();
      const marker = `${overdue ? 'OVERDUE: still ON TEST' : 'ON TEST'} until ${localTime(lease.until)} (by ${lease.operator})`;
      this.out.print(overdue ? color.red.bold(marker) : color.yellow.bold(marker));
    }
    this.out.print(panel.users.length ? renderTable(panel.users, userColumns, { header: (s) => color.bold(s) }) : color.dim('(no users)'));
  }

  /** The panel's header: who it belongs to and how it is reached. */
  showPanel(panel: PanelView): void {
    const { target, panelInfo: info } = panel;
    const { color } = this.out;
    const facts = [
      target.customer && `customer ${target.customer}`,
      target.account && `account ${target.account}`,
      `${info.model}, firmware ${info.firmware ?? 'not reported'}${info.module ? `, via ${info.module}` : ''}`,
      target.demo ? 'built-in simulator' : target.link.url,
    ].filter(Boolean);
    this.out.print(`\n${color.bold(target.name)}  ${color.dim(facts.join(' | '))}`);
  }
}
