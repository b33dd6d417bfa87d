import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type VistaSimulator } from '../../drivers/vista/simulator.js';
import { servedSimulators } from '../support/served.js';
import { type CliResult, makeSandbox, type Sandbox, secretsIn, startCli, waitFor } from '../support/cli.js';

/**
 * The real panelctl binary against the simulated VISTA-20P behind an AlarmDecoder on a real TCP
 * port (ser2sock style). A VISTA cannot read codes back: every write is proven by the panel's one
 * beep and audited as `panel-ack`, never as verified.
 */

const MASTER = '8305';
const WRONG = '8306';
const OPTIONS = { masterCode: MASTER, statusIntervalMs: 150, keyTimeoutMs: 400 };
const DRIVER_OPTIONS = '{ keyIntervalMs: 20, ackTimeoutMs: 1200, keyTimeoutMs: 400 }';

let sim: VistaSimulator;
let port: number;
const simulators = servedSimulators();
let wrong: VistaSimulator;
let wrongPort: number;
let sandbox: Sandbox;
const outputs: CliResult[] = [];
const secretsUsed = new Set<string>([MASTER, '5172', '6283', '7394']);

async function panelctl(args: string[], input?: string): Promise<CliResult> {
  const result = await sandbox.run(args, { input, env: { VISTA_MASTER: MASTER, VISTA_WRONG: WRONG } });
  outputs.push(result);
  return result;
}

beforeAll(async () => {
  sandbox = await makeSandbox();
  sim = await createSimulator({ users: 3, options: OPTIONS });
  port = await simulators.serve(sim);
  wrong = await createSimulator({ users: 3, options: OPTIONS });
  wrongPort = await simulators.serve(wrong);
  const panel = (port: number, secret: string) =>
    `    driver: vista\n    link: tcp://127.0.0.1:${port}\n    secret: env:${secret}\n    options: ${DRIVER_OPTIONS}\n    account: "9001"\n    station: quiet\n`;
  await sandbox.writeInventory(
    `stations:\n  quiet:\n    type: none\npanels:\n  clinic:\n${panel(port, 'VISTA_MASTER')}  wrong-code:\n${panel(wrongPort, 'VISTA_WRONG')}`,
  );
});

afterAll(async () => {
  await sandbox.cleanup();
});

describe('panelctl against a simulated VISTA behind an AlarmDecoder (ser2sock)', () => {
  it('adds, changes and removes users by key sequences; each is acknowledged, not read back, and says so', async () => {
    const add = await panelctl(['users', 'add', '--panel', 'clinic', '--slot', '7', '--code-stdin', '-o', 'json'], '5172\n');
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ verified: false, proof: 'panel-ack' });
    expect(sim.state.codes['07']).toBe('5172');

    const change = await panelctl(['users', 'set-code', '--panel', 'clinic', '--slot', '7', '--code-stdin'], '6283\n');
    expect(change.code, change.stderr).toBe(0);
    expect(change.stdout + change.stderr).toMatch(/acknowledged by the panel, not read back/);
    expect(sim.state.codes['07']).toBe('6283');

    const remove = await panelctl(['users', 'remove', '--panel', 'clinic', '--slot', '7', '--yes']);
    expect(remove.code, remove.stderr).toBe(0);
    expect(sim.state.codes['07']).toBeUndefined();
    expect(sim.stats).toMatchObject({ writes: 3, refusals: 0 });
  });

  it('audits each write with proof panel-ack in an intact chain', async () => {
    const show = await panelctl(['audit', 'show', '--panel', 'clinic', '-o', 'json']);
    expect(show.code, show.stderr).toBe(0);
    const entries = JSON.parse(show.stdout).entries.filter((e: { panel: string }) => e.panel === 'clinic');
    expect(entries.map((e: { action: string; outcome: string; proof: string }) => [e.action, e.outcome, e.proof])).toEqual([
      ['users.add', 'ok', 'panel-ack'],
      ['users.set-code', 'ok', 'panel-ack'],
      ['users.remove', 'ok', 'panel-ack'],
    ]);
    expect((await panelctl(['audit', 'verify'])).code).toBe(0);
  });

  it('users list says plainly the panel cannot list users (exit 6) and points at the audit', async () => {
    const list = await panelctl(['users', 'list', '--panel', 'clinic']);
    expect(list.code).toBe(6);
    expect(list.stderr).toMatch(/cannot read users back/);
    expect(list.stderr).toMatch(/audit show --panel clinic/);
  });

  it('a wrong master code is typed once, refused (exit 3), and the panel is left alone', async () => {
    const result = await panelctl(['users', 'set-code', '--panel', 'wrong-code', '--slot', '5', '--code-stdin'], '7394\n');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/did not acknowledge/);
    expect(result.stderr).toMatch(/will not send the master code again/);
    expect(wrong.stats).toMatchObject({ keys: 11, wrongCodes: 1, writes: 0 });
    expect(wrong.state.codes['05']).not.toBe('7394');
  });

  it('runs the walk test: start shows TEST IN PROGRESS on the panel, stop ends it', async () => {
    const start = await panelctl(['test-mode', 'start', '--panel', 'clinic', '--for', '30m', '-o', 'json']);
    expect(start.code, start.stderr).toBe(0);
    expect(sim.state.walkTest).toBe(true);
    expect(sim.display[0]).toBe('TEST IN PROGRESS');
    const stop = await panelctl(['test-mode', 'stop', '--panel', 'clinic', '-o', 'json']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(sim.state.walkTest).toBe(false);
  });

  it('Ctrl-C in the middle of a key sequence exits 130 after the panel dropped the half entry; the next command works', async () => {
    secretsUsed.add('4915');
    const keysBefore = sim.stats.keys;
    const abortsBefore = sim.stats.aborts;
    const { child, stderr, exited } = startCli(
      ['users', 'set-code', '--panel', 'clinic', '--slot', '8', '--code-stdin', '--option', 'keyIntervalMs=200'],
      { ...sandbox.env, VISTA_MASTER: MASTER },
      '4915\n',
    );
    await waitFor(() => sim.stats.keys >= keysBefore + 3, stderr);
    child.kill('SIGINT');
    const code = await exited;
    outputs.push({ code, stdout: '', stderr: stderr() });
    expect(code).toBe(130);
    expect(sim.stats.keys - keysBefore).toBeLessThan(11);
    expect(sim.stats.aborts).toBe(abortsBefore + 1); // the panel dropped the half entry before panelctl let go
    expect(sim.entryStep).toBe('code');
    expect(sim.state.codes['08']).toBeUndefined();
    const next = await panelctl(['users', 'set-code', '--panel', 'clinic', '--slot', '8', '--code-stdin'], '4915\n');
    expect(next.code, next.stderr).toBe(0);
    expect(sim.state.codes['08']).toBe('4915');
  });

  it('never lets a code reach stdout, stderr, the audit log or a state file', async () => {
    const everything = outputs.map((o) => o.stdout + o.stderr).join('\n') + (await sandbox.allWrittenText());
    expect(secretsIn(everything, secretsUsed), 'leaked').toEqual([]);
  });
});
