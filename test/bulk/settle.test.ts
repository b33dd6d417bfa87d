import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createSimulator as createIntegra } from '../../drivers/integra/simulator.js';
import { createSimulator as createDsc } from '../../drivers/dsc/simulator.js';
import { createSimulator as createModbus } from '../../drivers/modbus/simulator.js';
import { servedSimulators } from '../support/served.js';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { ensureBuilt } from './support/build.js';
import { codesOut, writesToSlot, type ModbusSim } from './support/modbus-fleet.js';

/**
 * Issue 13 items 4 and 8: --resume settles steps that were in flight by asking the panel, with
 * the code saved in --codes-out before it was sent as the evidence. The crash point is set
 * exactly: the journal says "started" and the codes file holds the code as "pending" (what a
 * kill -9 between saving and the panel's answer leaves), and for "landed" the panel got the
 * code (written with `users set-code`, as the lost write would have).
 */

let sandbox: Sandbox;
const simulators = servedSimulators();
const env: NodeJS.ProcessEnv = {};
let integra: Awaited<ReturnType<typeof createIntegra>> & { state: any; stats: { writes: number } };
let dsc: Awaited<ReturnType<typeof createDsc>> & { state: any; stats: { writes: number } };
let modbus: ModbusSim;

beforeAll(async () => {
  ensureBuilt();
  sandbox = await makeSandbox();
  integra = (await createIntegra({ users: 5 })) as typeof integra;
  env.INTEGRA_CODE = integra.demoSecrets().code;
  dsc = (await createDsc({ users: 5, options: { codeLength: 4 } })) as typeof dsc;
  env.DSC_MASTER = dsc.demoSecrets().code;
  env.DSC_TPI = dsc.demoSecrets().tpiPassword;
  modbus = (await createModbus({ users: 5, options: { profile: 'demo-modbus' } })) as ModbusSim;
  await sandbox.writeInventory(
    [
      'panels:',
      `  integra-0: { driver: integra, link: "tcp://127.0.0.1:${await simulators.serve(integra)}", secret: env:INTEGRA_CODE }`,
      `  dsc-0: { driver: dsc, link: "tcp://127.0.0.1:${await simulators.serve(dsc)}", secret: env:DSC_MASTER, secrets: { tpiPassword: env:DSC_TPI }, options: { codeLength: 4 } }`,
      `  modbus-0: { driver: modbus, link: "tcp://127.0.0.1:${await simulators.serve(modbus)}", options: { profile: demo-modbus, unit: 1 } }`,
      '',
    ].join('\n'),
  );
}, 60_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

const run = (args: string[], input?: string) => sandbox.run(args, { env, input, timeoutMs: 60_000 });

describe('bulk apply --resume after a crash mid-write', () => {
  it('settles each in-flight step with the panel: landed is done, absent is written now, unknowable needs a person', async () => {
    const changes = path.join(sandbox.dir, 'changes.csv');
    await fs.writeFile(changes, 'panel,action,slot,code\n*,set-code,2,generate\n*,set-code,3,generate\n');
    const planFile = path.join(sandbox.dir, 'plan.json');
    const planned = await run(['bulk', 'plan', changes, '--out', planFile, '--all', '-o', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(await fs.readFile(planFile, 'utf8'));
    const stepOf = (panel: string, slot: number) => plan.panels.find((p: any) => p.panel === panel).steps.find((s: any) => s.slot === slot);

    // What kill -9 after "saved and sent, answer not yet in" leaves behind.
    const saved: Record<string, string> = {
      'integra-0#2': '318274',
      'integra-0#3': '529163',
      'modbus-0#2': '613857',
      'modbus-0#3': '742915',
      'dsc-0#2': '4826',
      'dsc-0#3': '5937',
    };
    const codesFile = path.join(sandbox.dir, 'new-codes.csv');
    const lines = Object.entries(saved).map(([key, code]) => {
      const [panel, slot] = key.split('#');
      return `${panel},${slot},${stepOf(panel, Number(slot)).name ?? ''},${code},pending`;
    });
    await fs.writeFile(codesFile, `panel,slot,name,code,status\n${lines.join('\n')}\n`, { mode: 0o600 });
    const journalDir = path.join(sandbox.stateDir, 'bulk', plan.id);
    await fs.mkdir(journalDir, { recursive: true, mode: 0o700 });
    const started = Object.keys(saved).map((key) => {
      const [panel, slot] = key.split('#');
      const step = stepOf(panel, Number(slot));
      return JSON.stringify({
        time: new Date().toISOString(),
        step: step.id,
        panel,
        event: 'started',
        slot: step.slot,
        action: 'set-code',
        attempt: 1,
        codesFile,
      });
    });
    await fs.writeFile(path.join(journalDir, 'journal.jsonl'), `${started.join('\n')}\n`, { mode: 0o600 });

    // Slot 2's write landed on every panel before the crash; slot 3's never reached the panel.
    for (const panel of ['integra-0', 'modbus-0', 'dsc-0']) {
      const landed = await run(['users', 'set-code', '--panel', panel, '--slot', '2', '--code-stdin', '--allow-weak'], `${saved[`${panel}#2`]}\n`);
      expect(landed.code, landed.stderr).toBe(0);
    }
    const integraWrites = integra.stats.writes;
    const dscWrites = dsc.stats.writes;

    const resumed = await run(['bulk', 'apply', planFile, '--resume', '--codes-out', codesFile]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(7);

    // INTEGRA (users without GUARDX: the code is checked with 0xE1) and Modbus (registers read back).
    expect(integra.state.users[2].code).toBe(saved['integra-0#2']);
    expect(integra.state.users[3].code).toBe(saved['integra-0#3']);
    expect(integra.stats.writes - integraWrites).toBe(1);
    expect(modbus.user(2)?.code).toBe(saved['modbus-0#2']);
    expect(modbus.user(3)?.code).toBe(saved['modbus-0#3']);
    expect(writesToSlot(modbus, 2)).toBe(1); // the "landed" write only
    expect(writesToSlot(modbus, 3)).toBe(1);
    const delivered = await codesOut(codesFile);
    for (const key of ['integra-0#2', 'integra-0#3', 'modbus-0#2', 'modbus-0#3'])
      expect(delivered.get(key), key).toEqual({ code: saved[key], status: 'applied' });

    // DSC cannot show or check a code: nothing is written twice, and a person gets one instruction per step.
    expect(dsc.stats.writes - dscWrites).toBe(0);
    expect(delivered.get('dsc-0#2')?.status).toBe('unconfirmed');
    expect(delivered.get('dsc-0#3')?.status).toBe('unconfirmed');
    expect(resumed.stdout).toMatch(/2 step\(s\) need a person/);
    for (const slot of [2, 3]) {
      expect(resumed.stdout).toMatch(
        new RegExp(
          `dsc-0 slot ${slot} \\(set-code\\): check by hand: have the user of slot ${slot} on dsc-0 try the code saved for it in ${codesFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
        ),
      );
    }
    expect(resumed.stderr).not.toMatch(/run again with --resume/);

    for (const format of ['json', 'ndjson']) {
      const again = await run(['bulk', 'apply', planFile, '--resume', '--codes-out', codesFile, '-o', format]);
      expect(again.code, again.stderr).toBe(7);
      const steps =
        format === 'json'
          ? JSON.parse(again.stdout).steps
          : again.stdout
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l))
              .filter((e) => e.event === 'step');
      const uncertain = steps.filter((s: any) => s.status === 'failed');
      expect(uncertain.map((s: any) => [s.panel, s.slot, s.code])).toEqual([
        ['dsc-0', 2, 'E_UNCERTAIN'],
        ['dsc-0', 3, 'E_UNCERTAIN'],
      ]);
      for (const s of uncertain)
        expect(s.instruction).toMatch(
          /check by hand: have the user of slot \d on dsc-0 try the code saved for it in .*panelctl users set-code --panel dsc-0 --slot \d/,
        );
    }
    expect(dsc.stats.writes - dscWrites).toBe(0);
  }, 180_000);
});
