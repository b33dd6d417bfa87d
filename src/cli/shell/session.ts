import type { DriverInfo, PanelInfo, UserSlot } from '../../core/contract.js';
import { WrongCredentialError, toPanelctlError } from '../../core/errors.js';
import type { OperationContext } from '../../operations/context.js';
import type { Target } from '../../inventory/targets.js';
import type { InventoryFile } from '../../inventory/schema.js';
import { listUsers, panelInfo } from '../../operations/users.js';
import { describeTarget } from '../../operations/session.js';
import { renderTable } from '../../output/table.js';
import { userColumns } from '../actions/users.js';
import type { Cli } from '../context.js';
import { askSecret, askText } from '../prompts.js';
import { busy, isCancel, paused } from './ui.js';

/** A panel as the shell holds it between actions: what it is, what it can do, its users as last read. */
export interface PanelView {
  target: Target;
  /** The driver's description narrowed by what the panel itself reported (a Modbus profile's slots and code lengths). */
  driver: DriverInfo;
  info: PanelInfo;
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
      const operator = operatorGiven ? ctx.operator : (await askText('Your name, for the audit log:', { default: ctx.operator, validate: (v) => (v.trim() ? true : 'a name is needed') })).trim();
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

  /** After a refused credential: forget what was typed for it and stay away from that panel. */
  noteFailure(target: Target, error: unknown): void {
    if (!(error instanceof WrongCredentialError)) return;
    this.refused.add(target.name);
    for (const label of this.typedCredentials.keys()) if (label.endsWith(` for ${target.name}`)) this.typedCredentials.delete(label);
  }

  /** Connects: what the panel is, then its users (two read-only operations; Ctrl-C aborts them). */
  async openPanel(target: Target): Promise<PanelView> {
    const described = await describeTarget(target);
    const { result: info } = await busy(`connecting to ${target.name}`, 'read', (signal) => panelInfo(target, this.readContext(signal)));
    const driver: DriverInfo = { ...described, slotRanges: info.slotRanges, codeRules: info.codeRules, capabilities: info.capabilities };
    const panel: PanelView = { target, driver, info, users: [] };
    this.showPanel(panel);
    await this.refreshUsers(panel);
    return panel;
  }

  /** Reads the users afresh (Ctrl-C aborts the read) and shows them. */
  async refreshUsers(panel: PanelView): Promise<void> {
    const { result } = await busy(`reading the users of ${panel.target.name}`, 'read', (signal) => listUsers(panel.target, this.readContext(signal)));
    panel.users = result;
    this.showUsers(panel);
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

  showUsers(panel: PanelView): void {
    const { color } = this.out;
    process.stdout.write(panel.users.length ? `${renderTable(panel.users, userColumns, { header: (s) => color.bold(s) })}\n` : `${color.dim('(no users)')}\n`);
  }

  /** The panel's header: who it belongs to and how it is reached. */
  showPanel(panel: PanelView): void {
    const { target, info } = panel;
    const { color } = this.out;
    const facts = [
      target.customer && `customer ${target.customer}`,
      target.account && `account ${target.account}`,
      [info.model, info.firmware && `firmware ${info.firmware}`].filter(Boolean).join(' '),
      target.demo ? 'built-in simulator' : target.link.url,
    ].filter(Boolean);
    process.stdout.write(`\n${this.out.printable(`${color.bold(target.name)}  ${color.dim(facts.join(' | '))}`)}\n`);
  }
}
