import { afterEach, describe, expect, it } from 'vitest';
import type { DriverInfo, DriverOptions, NewUser, PanelDriver, PanelSession } from '../../src/core/contract.js';
import { type PanelctlError, toPanelctlError } from '../../src/core/errors.js';
import type { Link } from '../../src/core/link.js';
import { Secret } from '../../src/core/secret.js';
import { serveSimulator } from '../../src/transport/serve.js';
import { facetMismatch } from '../../src/operations/facets.js';
import { changeCodeStep, createUserStep, removeUserStep } from '../../src/operations/user-steps.js';
import { drivers } from '../../drivers/index.js';
import { makeSandbox } from './cli.js';
import { wireTap, type WireTap } from './wire-tap.js';

/**
 * The driver conformance suite (issue 15 item 7): what every driver must do against its own simulator.
 * A driver is done when `driverContract('<name>', facts)` passes in test/conformance/<name>.test.ts.
 *
 *  - its sessions offer exactly the facets its DriverInfo declares;
 *  - add -> prove -> change -> prove -> remove, each write proven as strongly as declared (the steps
 *    the operations use, src/operations/user-steps.ts);
 *  - a refused credential goes to the panel once and never again;
 *  - a dropped link is E_LOST, silence E_TIMEOUT, Ctrl-C (an abort) E_ABORTED;
 *  - --debug traces carry no code, in any encoding the driver uses;
 *  - `panelctl users add` through the real binary audits the proof the driver declares.
 */

/** A running simulator, as the driver under test reaches it. */
export interface RunningSimulator {
  /** The link the driver opens (TCP or HTTP(S): the suite relays it to inject faults). */
  link: Link;
  /** Further inventory fields for the panel, for the CLI test (TLS pinning of an HTTPS simulator...). */
  inventory?: Record<string, unknown>;
  /** The secrets a correct login needs, by the driver's secret names (the simulator's demoSecrets()). */
  secrets: Record<string, string>;
  close(): Promise<void>;
}

export interface DriverFacts {
  /** Starts a fresh simulator (one per test). `simulatorOnTcp(name, options)` does it for any simulator in the registry. */
  start(): Promise<RunningSimulator>;
  /** The inventory options the driver needs for this simulator (a Modbus profile...). */
  options?: DriverOptions;
  /** A free slot the suite adds, changes and removes. */
  slot: number;
  /** The name given to the user added ('' for panels that keep no names). */
  name: string;
  /** Two valid codes for this driver: the one added, then the one it is changed to. Pick digits that appear nowhere else. */
  codes: [string, string];
  /**
   * The credential to refuse, for drivers that log in: the secret's name, a wrong value the simulator refuses, and how
   * many times that value went out in the bytes the client sent (the driver's wire encoding: BCD, keystrokes...).
   */
  credential?: { secret: string; wrong: string; timesSent(clientBytes: Buffer, value: string): number };
  /**
   * What a code may look like in a trace line, besides the suite's own forms (the digits; their BCD bytes as hex
   * pairs or 16-bit groups; their ASCII bytes as hex): the driver's own encodings, e.g. register values in decimal.
   */
  codeForms?(code: string): string[];
  /**
   * For codes that go out spread over several frames (keystrokes): the trace lines joined back into the sequence sent,
   * scanned like one more line (DSC: the keys of every 070/071 command, in order).
   */
  joinTrace?(lines: string[]): string;
  /** One request that must reach the panel, for the fault tests (default: read the slot, or the test-mode status). */
  ask?(session: PanelSession): Promise<unknown>;
  /** Milliseconds the driver waits for an answer (default 3000): the silence test takes this long. */
  timeoutMs?: number;
}

/** A simulator from the registry, created with `options` and served on loopback (accept(stream) or its own listen()). */
export function simulatorOnTcp(driver: string, options: Parameters<Awaited<ReturnType<typeof drivers.loadSimulator>>['createSimulator']>[0] = {}) {
  return async (): Promise<RunningSimulator> => {
    const sim = await (await drivers.loadSimulator(driver)).createSimulator(options);
    const server = await serveSimulator(sim, { tcp: { host: '127.0.0.1', port: 0 } });
    return {
      link: server.link,
      secrets: sim.demoSecrets(),
      async close() {
        await server.close();
        await sim.close();
      },
    };
  };
}

/** The suite's own forms of a code in trace text: digits, BCD bytes in hex (paired or in 16-bit groups), ASCII bytes in hex. */
export function commonCodeForms(code: string): string[] {
  const groups = (text: string, size: number, sep: string) => text.match(new RegExp(`.{1,${size}}`, 'g'))?.join(sep) ?? text;
  const ascii = Buffer.from(code, 'ascii').toString('hex');
  return [code, groups(code, 2, ' '), groups(code, 4, ' '), ascii, groups(ascii, 2, ' ')];
}

export function driverContract(name: string, facts: DriverFacts): void {
  const timeoutMs = facts.timeoutMs ?? 3000;
  const running: Array<{ close(): Promise<void> }> = [];
  let driver: PanelDriver;
  let info: DriverInfo;

  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.close().catch(() => undefined);
  });

  async function describeDriver(): Promise<DriverInfo> {
    driver ??= await drivers.load(name);
    info = driver.describeFor ? await driver.describeFor(facts.options ?? {}) : driver.describe();
    return info;
  }

  /** A fresh simulator behind a wire tap, and a way to open sessions on it. */
  async function rig() {
    await describeDriver();
    const sim = await facts.start();
    running.push(sim);
    if (sim.link.kind === 'serial' || sim.link.port === undefined) throw new Error('the conformance suite needs the simulator on TCP (host and port)');
    const tap = await wireTap(sim.link.host, sim.link.port);
    running.push(tap);
    const link: Link = { ...sim.link, port: tap.port, url: sim.link.url.replace(`:${sim.link.port}`, `:${tap.port}`) };
    const open = async (extra: { secrets?: Record<string, string>; signal?: AbortSignal; trace?: (d: 'tx' | 'rx', t: string) => void } = {}) => {
      const secrets = Object.fromEntries(Object.entries({ ...sim.secrets, ...extra.secrets }).map(([k, v]) => [k, new Secret(v)]));
      const session = await driver.open({ link, secrets, options: facts.options ?? {}, timeoutMs, signal: extra.signal, trace: extra.trace });
      running.push(session);
      return session;
    };
    return { sim, tap, open };
  }

  /** A request that must reach the panel. */
  function ask(session: PanelSession): Promise<unknown> {
    if (facts.ask) return facts.ask(session);
    if (session.reader) return session.reader.readUser(facts.slot);
    if (session.testMode) return session.testMode.status();
    throw new Error(`give the ${name} facts an ask(session): the session has no reader and no test mode`);
  }

  /** The typed error `work` fails with (it must fail). */
  async function failure(work: Promise<unknown>): Promise<PanelctlError> {
    try {
      await work;
    } catch (error) {
      return toPanelctlError(error);
    }
    throw new Error('expected a failure, but it succeeded');
  }

  /** A fault during a request: `fault` is applied once the request's first bytes have gone out. */
  async function underFault(fault: (tap: WireTap, abort: AbortController) => void): Promise<PanelctlError> {
    const { tap, open } = await rig();
    const abort = new AbortController();
    const session = await open({ signal: abort.signal });
    const before = tap.sent().length;
    const request = ask(session);
    await tap.sentMoreThan(before);
    fault(tap, abort);
    return failure(request);
  }

  const newUser = (code: string): NewUser => ({ slot: facts.slot, name: facts.name, code: new Secret(code) });

  describe(`${name}: driver contract`, () => {
    it('its sessions offer exactly the facets it declares', async () => {
      const { open } = await rig();
      const session = await open();
      expect(facetMismatch(info, session)).toBeUndefined();
      const panel = await session.info();
      expect(panel.driver).toBe(name);
    });

    it('add -> prove -> change -> prove -> remove, each write proven as strongly as declared', async () => {
      const { open } = await rig();
      const session = await open();
      const declared = info.facets.writer;
      if (!declared) {
        expect(session.writer).toBeUndefined();
        return;
      }
      const strongest = declared.proofs[0];
      const added = await createUserStep(session, info, newUser(facts.codes[0]));
      expect(added.user.slot).toBe(facts.slot);
      expect(added.proof).toBe(strongest);
      // By what the driver declares, not by what the session happens to have: a lost facet fails here, not skips.
      if (info.facets.reader) expect(await session.reader?.readUser(facts.slot)).toMatchObject({ slot: facts.slot, hasCode: true });
      const changed = await changeCodeStep(session, info, facts.slot, new Secret(facts.codes[1]));
      expect(changed.proof).toBe(strongest);
      if (info.facets.codeChecker) expect(await session.codeChecker?.verifyCode(facts.slot, new Secret(facts.codes[1]))).toBe(true);
      const removed = await removeUserStep(session, info, facts.slot);
      expect(removed.proof).toBe(info.facets.reader ? 'read-back' : 'panel-ack');
      if (info.facets.reader) expect(await session.reader?.readUser(facts.slot)).toBeUndefined();
    });

    it.runIf(facts.credential)('a refused credential is sent once and never again', async () => {
      const credential = facts.credential!;
      const { tap, open } = await rig();
      const error = await failure(
        (async () => {
          const session = await open({ secrets: { [credential.secret]: credential.wrong } });
          await ask(session);
          if (session.writer) await session.writer.changeCode(facts.slot, new Secret(facts.codes[0]));
        })(),
      );
      expect(error.exitCode, error.message).toBe(3);
      expect(credential.timesSent(tap.sent(), credential.wrong)).toBe(1);
    });

    it('a dropped link is E_LOST', async () => {
      const error = await underFault((tap) => tap.drop());
      expect(error.code, error.message).toBe('E_LOST');
    });

    it('silence is E_TIMEOUT', async () => {
      const error = await underFault((tap) => tap.silence());
      expect(error.code, error.message).toBe('E_TIMEOUT');
    });

    it('Ctrl-C (an abort) is E_ABORTED', async () => {
      const error = await underFault((tap, abort) => {
        tap.silence();
        abort.abort();
      });
      expect(error.code, error.message).toBe('E_ABORTED');
    });

    it('--debug traces carry no code in any encoding the driver uses', async () => {
      const { sim, open } = await rig();
      const lines: string[] = [];
      const session = await open({ trace: (direction, text) => lines.push(`${direction} ${text}`) });
      await ask(session);
      if (session.writer) {
        await createUserStep(session, info, newUser(facts.codes[0]));
        await changeCodeStep(session, info, facts.slot, new Secret(facts.codes[1]));
        await removeUserStep(session, info, facts.slot);
      }
      expect(lines.length).toBeGreaterThan(0);
      const secrets = [...facts.codes, ...Object.values(sim.secrets).filter((s) => /^\d+$/.test(s))];
      const forms = secrets.flatMap((code) => [...commonCodeForms(code), ...(facts.codeForms?.(code) ?? [])].map((f) => f.toLowerCase()));
      const scanned = facts.joinTrace ? [...lines, `joined: ${facts.joinTrace(lines)}`] : lines;
      const leaks = scanned.filter((line) => forms.some((form) => line.toLowerCase().includes(form)));
      expect(leaks).toEqual([]);
    });

    it('`panelctl users add` audits the proof the driver declares', async () => {
      await describeDriver();
      const declared = info.facets.writer;
      if (!declared) return;
      const sim = await facts.start();
      running.push(sim);
      const sandbox = await makeSandbox();
      running.push({ close: () => sandbox.cleanup() });
      const env: NodeJS.ProcessEnv = {};
      const refs = Object.entries(sim.secrets).map(([secret, value]) => {
        env[`CONFORMANCE_${secret.toUpperCase()}`] = value;
        return `${JSON.stringify(secret)}: ${JSON.stringify(`env:CONFORMANCE_${secret.toUpperCase()}`)}`;
      });
      await sandbox.writeInventory(
        [
          'panels:',
          '  conformance:',
          `    driver: ${name}`,
          `    link: ${JSON.stringify(sim.link.url)}`,
          ...Object.entries(sim.inventory ?? {}).map(([key, value]) => `    ${key}: ${JSON.stringify(value)}`),
          ...(refs.length ? [`    secrets: { ${refs.join(', ')} }`] : []),
          ...(facts.options ? [`    options: ${JSON.stringify(facts.options)}`] : []),
          '',
        ].join('\n'),
      );
      const args = ['users', 'add', '--panel', 'conformance', '--slot', String(facts.slot), '--code-stdin', '-o', 'json'];
      if (facts.name) args.push('--name', facts.name);
      const added = await sandbox.run(args, { input: `${facts.codes[0]}\n`, env });
      expect(added.code, added.stderr).toBe(0);
      const shown = await sandbox.run(['audit', 'show', '-o', 'json'], { env });
      const { entries } = JSON.parse(shown.stdout) as { entries: Array<{ action: string; outcome: string; proof?: string }> };
      expect(entries.at(-1)).toMatchObject({ action: 'users.add', outcome: 'ok', proof: declared.proofs[0] });
    });
  });
}
