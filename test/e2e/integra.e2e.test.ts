import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createSimulator } from '../../drivers/integra/simulator.js';
import { servedSimulators } from '../support/served.js';
import { makeSandbox, type CliResult, type Sandbox } from '../support/cli.js';
import { readCodesCsv } from '../support/codes-csv.js';

/**
 * The real panelctl binary, as a child process, against the INTEGRA simulator on a real
 * TCP port. Every code used here is collected and, at the end, searched for in everything
 * the tool printed or wrote.
 */

type Sim = Awaited<ReturnType<typeof createSimulator>>;

let sim: Sim;
let port: number;
const simulators = servedSimulators();
/** A second panel behind an ETHM-1 Plus with an integration key: the encrypted variant. */
let encrypted: Sim;
let encryptedPort: number;
const INTEGRATION_KEY = 'Vq7#ETHMplus';
let sandbox: Sandbox;
const outputs: CliResult[] = [];
const codesUsed = new Set<string>();
/** A long master code, so a search for it in the output cannot match by chance. */
const MASTER = '73918264';

async function panelctl(args: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<CliResult> {
  const result = await sandbox.run(args, { input, env: { LAB_CODE: MASTER, ...env } });
  outputs.push(result);
  return result;
}

function userIn(slot: number) {
  return sim.state.users[slot];
}

beforeAll(async () => {
  sandbox = await makeSandbox();
  sim = await createSimulator({ users: 5 });
  sim.state.users[241].code = MASTER;
  codesUsed.add(MASTER);
  port = await simulators.serve(sim);
  encrypted = await createSimulator({ users: 2, options: { integrationKey: INTEGRATION_KEY } });
  encrypted.state.users[241].code = MASTER;
  encryptedPort = await simulators.serve(encrypted);
  codesUsed.add(INTEGRATION_KEY);
  await sandbox.writeInventory(
    `panels:\n  lab:\n    driver: integra\n    link: tcp://127.0.0.1:${port}\n    secret: env:LAB_CODE\n    account: "7001"\n    tags: { site: lab }\n  lab-duress:\n    driver: integra\n    link: tcp://127.0.0.1:${port}\n    secret: env:LAB_CODE\n    options: { duressPlusOne: true }\n  vault:\n    driver: integra\n    link: tcp://127.0.0.1:${encryptedPort}\n    secret: env:LAB_CODE\n    secrets: { integrationKey: env:VAULT_KEY }\n`,
  );
});

afterAll(async () => {
  await sandbox.cleanup();
});

beforeEach(() => sim.setFaults({ latencyMs: 0, dropReplies: 0, corruptCrc: 0, resetAfterFrames: 0 }));

describe('panelctl against the INTEGRA simulator', () => {
  it('lists users with slot, name, type and partitions, never codes', async () => {
    const json = await panelctl(['users', 'list', '--panel', 'lab', '-o', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const { users } = JSON.parse(json.stdout);
    const slots = users.map((u: { slot: number }) => u.slot);
    expect(slots).toEqual(expect.arrayContaining([1, 2, 3, 4, 5, 241]));
    expect(users.find((u: { slot: number }) => u.slot === 241)).toMatchObject({ kind: 'master', hasCode: true });
    expect(users.find((u: { slot: number }) => u.slot === 1)).toMatchObject({
      kind: 'user',
      name: expect.any(String),
      type: expect.any(String),
      partitions: expect.any(Array),
    });

    const table = await panelctl(['users', 'list', '--panel', 'lab']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/SLOT\s+KIND\s+NAME/);
    for (let slot = 1; slot <= 5; slot++) expect(table.stdout).not.toContain(userIn(slot).code);
  });

  it('shows panel info: model, firmware, slot ranges and capabilities', async () => {
    const result = await panelctl(['info', '--panel', 'lab', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const info = JSON.parse(result.stdout);
    expect(info.model).toMatch(/INTEGRA/);
    expect(info.firmware).toBeTruthy();
    expect(info.slotRanges).toEqual(expect.arrayContaining([expect.objectContaining({ from: 1, to: 240 }), expect.objectContaining({ from: 241, to: 248 })]));
    expect(info.capabilities).toContain('users.add');
    expect(info.capabilities).not.toContain('test-mode');
  });

  it('adds a user from stdin, verified, and the panel holds it', async () => {
    codesUsed.add('583016');
    const result = await panelctl(
      ['users', 'add', '--panel', 'lab', '--slot', '20', '--name', 'Cleaner', '--partitions', '1,2', '--code-stdin', '-o', 'json'],
      '583016\n',
    );
    expect(result.code, result.stderr).toBe(0);
    // INTEGRA proves a write by code-check (or read-back where the panel cannot tell for this user), never by the bare ack.
    expect(JSON.parse(result.stdout)).toMatchObject({ verified: true, user: { slot: 20, name: 'Cleaner', partitions: [1, 2] } });
    expect(['code-check', 'read-back']).toContain(JSON.parse(result.stdout).proof);
    expect(userIn(20)).toMatchObject({ name: 'Cleaner', code: '583016' });
  });

  it('on a panel that treats code plus one as duress, refuses a code next to the one panelctl uses', async () => {
    const writes = sim.stats.writes;
    const neighbour = String(Number(MASTER) + 1);
    codesUsed.add(neighbour);
    const result = await panelctl(['users', 'set-code', '--panel', 'lab-duress', '--slot', '1', '--code-stdin'], `${neighbour}\n`);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/new code: must not be another code on this panel plus or minus one/);
    expect(sim.stats.writes).toBe(writes);
    // The same code is fine where the panel has no such rule.
    const plain = await panelctl(['users', 'set-code', '--panel', 'lab', '--slot', '1', '--code-stdin'], `${neighbour}\n`);
    expect(plain.code, plain.stderr).toBe(0);
  });

  it('--debug traces every frame with the code bytes masked', async () => {
    codesUsed.add('604729');
    const result = await panelctl(['users', 'add', '--panel', 'lab', '--slot', '33', '--name', 'Traced', '--code-stdin', '--debug'], '604729\n');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/\[tx\] e6 \*\* \*\*/); // 0xE6 create user, requester code masked
    expect(result.stderr).toMatch(/\[rx\] /);
    // The codes in the BCD form they take on the wire, as the trace would print them.
    for (const bcd of ['60 47 29', '73 91 82 64']) expect(result.stderr).not.toContain(bcd);
  });

  it('refuses a slot that is taken, before writing anything (exit 3)', async () => {
    const writes = sim.stats.writes;
    codesUsed.add('640271');
    const result = await panelctl(['users', 'add', '--panel', 'lab', '--slot', '20', '--name', 'Other', '--code-stdin'], '640271\n');
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/slot 20 is already used by "Cleaner"/);
    expect(sim.stats.writes).toBe(writes);
  });

  it('rejects bad input with exit 2, naming the rule, and sends nothing', async () => {
    const frames = sim.stats.framesIn;
    const weak = await panelctl(['users', 'add', '--panel', 'lab', '--slot', '21', '--name', 'Weak', '--code-stdin'], '1234\n');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/new code: must not be a straight run/);
    const argvCode = await panelctl(['users', 'add', '--panel', 'lab', '--slot', '21', '--name', 'X', '--code', '583917']);
    expect(argvCode.code).toBe(2);
    expect(argvCode.stderr).toMatch(/never accepted on the command line/);
    const badSlot = await panelctl(['users', 'add', '--panel', 'lab', '--slot', '300', '--name', 'X', '--code-stdin'], '583917\n');
    expect(badSlot.code).toBe(2);
    expect(badSlot.stderr).toMatch(/--slot: must be a slot this panel has/);
    const noCode = await panelctl(['users', 'add', '--panel', 'lab', '--slot', '21', '--name', 'X']);
    expect(noCode.code).toBe(2);
    expect(noCode.stderr).toMatch(/no new code given/);
    expect(sim.stats.framesIn).toBe(frames);
  });

  it('adds with --next --generate --reveal and with --codes-out', async () => {
    const revealed = await panelctl(['users', 'add', '--panel', 'lab', '--next', '--name', 'Temp', '--generate', '--reveal', '-o', 'json']);
    expect(revealed.code, revealed.stderr).toBe(0);
    const doc = JSON.parse(revealed.stdout);
    expect(doc.generatedCode).toMatch(/^\d{6}$/);
    expect(userIn(doc.user.slot).code).toBe(doc.generatedCode);

    const codesFile = path.join(sandbox.dir, 'codes.csv');
    const filed = await panelctl(['users', 'add', '--panel', 'lab', '--next', '--name', 'Filed', '--generate', '--codes-out', codesFile, '-o', 'json']);
    expect(filed.code, filed.stderr).toBe(0);
    const slot = JSON.parse(filed.stdout).user.slot;
    expect(await readCodesCsv(codesFile)).toEqual([['lab', String(slot), 'Filed', userIn(slot).code, 'applied']]);
    expect((await fs.stat(codesFile)).mode & 0o777).toBe(0o600);
    expect(filed.stdout + filed.stderr).not.toContain(userIn(slot).code);
  });

  it('changes a code and leaves name, partitions and type as they were', async () => {
    const before = { ...userIn(20) };
    codesUsed.add('719350');
    const result = await panelctl(['users', 'set-code', '--panel', 'lab', '--slot', '20', '--code-stdin'], '719350\n');
    expect(result.code, result.stderr).toBe(0);
    expect(userIn(20)).toMatchObject({ code: '719350', name: before.name, partitions: before.partitions, type: before.type });
  });

  it('maps panel refusals to exit 3 with the meaning in plain words', async () => {
    const same = await panelctl(['users', 'set-code', '--panel', 'lab', '--slot', '20', '--code-stdin'], '719350\n');
    expect(same.code).toBe(3);
    expect(same.stderr.toLowerCase()).toMatch(/same/);

    const taken = await panelctl(['users', 'set-code', '--panel', 'lab', '--slot', '1', '--code-stdin'], '719350\n');
    expect(taken.code).toBe(3);
    expect(taken.stderr.toLowerCase()).toMatch(/already|code/);

    const missing = await panelctl(['users', 'set-code', '--panel', 'lab', '--slot', '99', '--code-stdin'], '820461\n');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no user in slot 99/);

    codesUsed.add('90817263');
    const wrong = await panelctl(['users', 'list', '--panel', 'lab'], undefined, { LAB_CODE: '90817263' });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr.toLowerCase()).toMatch(/code/);
    expect(wrong.stderr).not.toContain('90817263');

    const normalUserCode = userIn(2).code;
    codesUsed.add(normalUserCode);
    const noRights = await panelctl(['users', 'remove', '--panel', 'lab', '--slot', '3', '--yes'], undefined, { LAB_CODE: normalUserCode });
    expect(noRights.code).toBe(3);
    expect(userIn(3)).toBeDefined();
  });

  it('removes only with --yes when there is no terminal', async () => {
    const refused = await panelctl(['users', 'remove', '--panel', 'lab', '--slot', '20']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);
    expect(userIn(20)).toBeDefined();

    const removed = await panelctl(['users', 'remove', '--panel', 'lab', '--slot', '20', '--yes', '-o', 'json']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ verified: true, user: { slot: 20, name: 'Cleaner' } });
    expect(userIn(20)).toBeUndefined();
  });

  it('reports a panel that does not answer as a timeout (exit 4)', async () => {
    sim.setFaults({ dropReplies: 1000 });
    const result = await panelctl(['--timeout', '800ms', 'users', 'list', '--panel', 'lab']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/no answer from the panel within 800 ms/);
  });

  it('reports a connection reset mid-command as a lost panel (exit 4)', async () => {
    sim.setFaults({ resetAfterFrames: 2 });
    const result = await panelctl(['users', 'list', '--panel', 'lab']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/lost the panel|connection/i);
  });

  it('says the panel is busy when another client holds it (exit 4)', async () => {
    const holder = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => holder.once('connect', resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    try {
      const result = await panelctl(['users', 'list', '--panel', 'lab']);
      expect(result.code).toBe(4);
      expect(result.stderr).toContain('panel busy: another client (integration or DLOADX session) is connected');
    } finally {
      holder.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  it('speaks the ETHM-1 Plus encrypted integration with the key from the inventory; a wrong key is a clear error', async () => {
    const key = { VAULT_KEY: INTEGRATION_KEY };
    codesUsed.add('736158');
    const add = await panelctl(['users', 'add', '--panel', 'vault', '--slot', '9', '--name', 'Sealed', '--code-stdin'], '736158\n', key);
    expect(add.code, add.stderr).toBe(0);
    expect(encrypted.state.users[9]).toMatchObject({ name: 'Sealed', code: '736158' });
    const list = await panelctl(['users', 'list', '--panel', 'vault', '-o', 'json'], undefined, key);
    expect(JSON.parse(list.stdout).users.map((u: { slot: number }) => u.slot)).toEqual([1, 2, 9, 241]);

    const wrong = await panelctl(['users', 'list', '--panel', 'vault', '--timeout', '1500ms'], undefined, { VAULT_KEY: 'not-the-key' });
    expect([4, 5]).toContain(wrong.code);
    expect(wrong.stderr).toMatch(/integration key/);
    expect(wrong.stderr).not.toContain('not-the-key');
    const none = await panelctl([
      'users',
      'list',
      '--panel',
      'lab-adhoc',
      '--link',
      `tcp://127.0.0.1:${encryptedPort}`,
      '--driver',
      'integra',
      '--secret-from',
      'env:LAB_CODE',
      '--timeout',
      '1000ms',
    ]);
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/nothing at all came back.*\n.*set secrets\.integrationKey/);
  });

  it('cannot reach a closed port (exit 4)', async () => {
    const result = await sandbox.run(['users', 'list', '--link', 'tcp://127.0.0.1:1', '--driver', 'integra', '--secret-from', 'env:LAB_CODE'], {
      env: { LAB_CODE: MASTER },
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/connection refused/);
  });

  it('audits every write in an intact chain with operator and ticket', async () => {
    await panelctl(['--ticket', 'SUP-42', 'users', 'add', '--panel', 'lab', '--slot', '30', '--name', 'Audited', '--code-stdin'], '402918\n');
    codesUsed.add('402918');
    const show = await panelctl(['audit', 'show', '-o', 'json']);
    const { entries } = JSON.parse(show.stdout);
    expect(entries.at(-1)).toMatchObject({ operator: 'e2e-tester', ticket: 'SUP-42', panel: 'lab', action: 'users.add', slot: 30, outcome: 'ok' });
    // Issue 15: every write's entry says how it was proven; INTEGRA asks the panel who owns the new code.
    expect(entries.at(-1).proof).toBe('code-check');
    expect(entries.some((e: { outcome: string }) => e.outcome === 'refused')).toBe(true);
    const verify = await panelctl(['audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('never lets a code reach stdout, stderr, the audit log or any state file', async () => {
    const everything = outputs.map((o) => o.stdout + o.stderr).join('\n') + (await sandbox.allWrittenText());
    // Short codes occur by chance in hashes and timestamps. The tests above used codes of six digits or more: if none
    // were gathered (this test run alone, or the set emptied), the loop would check nothing. (--reveal output may show
    // the generated code: it was asked for, and that code is not in codesUsed.)
    const checked = [...codesUsed].filter((code) => code.length >= 6);
    expect(checked.length).toBeGreaterThanOrEqual(5);
    for (const code of checked) expect(everything.includes(code), `code ${code.slice(0, 2)}** leaked`).toBe(false);
  });
});
