import { describe, expect, it, afterEach } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadInventory, parseInventory } from '../../src/inventory/load.js';
import { drivers } from '../../drivers/index.js';
import { resolveSecretRef } from '../../src/inventory/secrets.js';
import { resolveTarget, matchesSelector, allTargets } from '../../src/inventory/targets.js';
import type { ValidationError } from '../../src/core/errors.js';
import { findPanels } from '../../src/cli/shell/panels.js';

function problems(yaml: string): string {
  try {
    parseInventory(yaml, 'test.yaml', drivers.names);
  } catch (error) {
    const e = error as ValidationError;
    return `${e.message}\n${e.hint}`;
  }
  throw new Error('expected the inventory to be rejected');
}

describe('inventory', () => {
  it('accepts a good inventory and resolves a panel', async () => {
    const inventory = parseInventory(
      `panels:\n  oslo-office:\n    driver: integra\n    link: tcp://10.20.0.15:7094\n    secret: env:OSLO_CODE\n    account: "1042"\n    tags: { site: oslo, floor: 3 }\n`,
      'test.yaml',
      drivers.names,
    );
    const target = await resolveTarget('oslo-office', {}, inventory);
    expect(target).toMatchObject({
      driver: 'integra',
      link: { host: '10.20.0.15', port: 7094 },
      credentialRef: 'env:OSLO_CODE',
      tags: { site: 'oslo', floor: '3' },
    });
    expect(matchesSelector(target, 'site=oslo')).toBe(true);
    expect(matchesSelector(target, 'site=bergen')).toBe(false);
    expect(matchesSelector(target, 'account=1042,site=oslo')).toBe(true);
    expect(allTargets(inventory)).toHaveLength(1);
  });

  it('names the panel, the field and the rule', () => {
    expect(problems(`panels:\n  oslo:\n    driver: ajax\n    link: tcp://x:1\n`)).toMatch(/panel "oslo", field "driver": must be one of integra, dsc, modbus/);
    expect(problems(`panels:\n  oslo:\n    driver: integra\n    link: ftp://x\n`)).toMatch(/panel "oslo", field "link": unknown scheme "ftp"/);
    expect(problems(`panels:\n  oslo:\n    driver: integra\n    link: tcp://x:1\n    secret: "1234"\n`)).toMatch(
      /panel "oslo", field "secret": must be env:VARIABLE, file:PATH or prompt/,
    );
    expect(problems(`panels:\n  oslo:\n    driver: integra\n`)).toMatch(/panel "oslo", field "link": is required/);
    expect(problems(`panels:\n  oslo:\n    driver: integra\n    link: tcp://x:1\n    colour: red\n`)).toMatch(/unknown field\(s\): colour/);
    expect(problems(`panels: [\n`)).toMatch(/not valid YAML/);
  });

  it('reports every problem at once', () => {
    const text = problems(`panels:\n  a:\n    driver: nope\n    link: tcp://x:1\n  b:\n    driver: integra\n    link: nope\n`);
    expect(text).toMatch(/2 problem/);
  });

  it('says which panel names exist when one is unknown', async () => {
    const inventory = parseInventory(`panels:\n  alpha:\n    driver: integra\n    link: tcp://x:1\n`, 't', drivers.names);
    await expect(resolveTarget('beta', {}, inventory)).rejects.toMatchObject({ exitCode: 2, hint: expect.stringContaining('alpha') });
  });
});

describe('inventory input limits and YAML types', () => {
  it('refuses !!binary, !!set and other non-plain YAML values, naming the line and the tag', () => {
    const binary = problems(`panels:\n  oslo:\n    driver: integra\n    link: !!binary aGVsbG8=\n`);
    expect(binary).toMatch(/not valid YAML: line 4: a YAML !!binary value is not allowed \(an inventory holds text, numbers, true\/false, lists and maps\)/);
    expect(binary).not.toMatch(/readUInt|writeInt|toJSON|subarray/);
    expect(problems(`panels:\n  oslo:\n    driver: integra\n    link: tcp://x:1\n    account: !!set {a, b}\n`)).toMatch(
      /line 5: a YAML !!set value is not allowed/,
    );
  });

  it('still finds a panel named twice, with its line', () => {
    expect(problems(`panels:\n  a:\n    driver: integra\n    link: tcp://x:1\n  a:\n    driver: dsc\n    link: tcp://x:2\n`)).toMatch(
      /line \d+: a key appears twice in one map/,
    );
  });

  it('refuses an alias bomb ("billion laughs") by counting values, without expanding it', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    expect(problems(`${levels.join('\n')}\npanels: {}\n`)).toMatch(/expands to more than 5000000 values/);
  });

  it('lists the first 20 problems of a bad inventory and says how many more', () => {
    const panels = Array.from({ length: 1500 }, (_, i) => `  p${i}:\n    driver: nope\n    link: tcp://x:1\n`).join('');
    let error: any;
    try {
      parseInventory(`panels:\n${panels}`, 'big.yaml', drivers.names);
    } catch (e) {
      error = e;
    }
    expect(error.hint).toMatch(/^inventory big\.yaml has 1500 problem\(s\):/);
    expect(error.hint).toMatch(/\.\.\. and 1480 more$/);
    expect(error.hint.split('\n')).toHaveLength(22);
    expect(error.data.problems).toHaveLength(1000);
  });

  it('reads /dev/zero only up to the size limit, then refuses it', async () => {
    await expect(loadInventory('/dev/zero', true, '--inventory', drivers.names)).rejects.toMatchObject({
      exitCode: 2,
      code: 'E_TOO_LARGE',
      message: expect.stringMatching(/larger than 32 MiB/),
    });
  });
});

describe('ad hoc panels', () => {
  const inventory = parseInventory(`panels:\n  oslo:\n    driver: integra\n    link: tcp://10.0.0.1:7094\n`, 't', drivers.names);

  it('refuses a name with escapes, slashes or dots first, as the inventory would', async () => {
    for (const name of ['\x1b[2Jx', '../../etc', 'a b', '-x', 'x'.repeat(65)]) {
      await expect(resolveTarget(name, { link: 'tcp://10.0.0.9:7094', driver: 'integra', knownDrivers: drivers.names }, inventory)).rejects.toMatchObject({
        exitCode: 2,
        message: expect.stringMatching(/^--panel: panel names are 1-64 letters/),
      });
    }
    await expect(
      resolveTarget('site-7.a_b', { link: 'tcp://10.0.0.9:7094', driver: 'integra', knownDrivers: drivers.names }, inventory),
    ).resolves.toMatchObject({ name: 'site-7.a_b' });
  });

  it('refuses the name of an inventory panel (or a demo panel) with another link', async () => {
    await expect(resolveTarget('oslo', { link: 'tcp://10.0.0.9:7094', driver: 'integra', knownDrivers: drivers.names }, inventory)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/oslo is a panel in the inventory/),
    });
    await expect(resolveTarget('demo', { link: 'tcp://10.0.0.9:7094', driver: 'integra', knownDrivers: drivers.names }, inventory)).rejects.toMatchObject({
      exitCode: 2,
    });
  });
});

describe('a mistyped panel name', () => {
  const inventory = parseInventory(
    `panels:\n  oslo-office:\n    driver: integra\n    link: tcp://10.0.0.1:7094\n    customer: Nordic Retail AS\n    account: "1042"\n  bergen-shop:\n    driver: dsc\n    link: tcp://10.0.0.2:4025\n`,
    't',
    drivers.names,
  );

  it('says "did you mean" with the nearest name, by name, customer or account', async () => {
    await expect(resolveTarget('olso-office', {}, inventory)).rejects.toMatchObject({
      exitCode: 2,
      message: 'no panel named "olso-office" in the inventory; did you mean oslo-office?',
    });
    await expect(resolveTarget('bregen', {}, inventory)).rejects.toMatchObject({ message: expect.stringMatching(/did you mean bergen-shop\?$/) });
    await expect(resolveTarget('nordik', {}, inventory)).rejects.toMatchObject({ message: expect.stringMatching(/did you mean oslo-office\?$/) });
    await expect(resolveTarget('1043', {}, inventory)).rejects.toMatchObject({ message: expect.stringMatching(/did you mean oslo-office\?$/) });
    await expect(resolveTarget('xyz', {}, inventory)).rejects.toMatchObject({
      message: 'no panel named "xyz" in the inventory',
      hint: expect.stringContaining('oslo-office'),
    });
  });

  it('the shell search forgives a typo ("olso" finds oslo-office), exact matches first', () => {
    const targets = allTargets(inventory);
    expect(findPanels(targets, 'olso').map((t) => t.name)).toEqual(['oslo-office']);
    expect(findPanels(targets, 'oslo').map((t) => t.name)).toEqual(['oslo-office']);
    expect(findPanels(targets, 'zzzz').map((t) => t.name)).toEqual([]);
  });
});

describe('secret references', () => {
  const dir = path.join(os.tmpdir(), `panelctl-secrets-${process.pid}`);
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('reads env and private files, refuses a file others can read', async () => {
    process.env.PANELCTL_TEST_SECRET = '4829';
    expect((await resolveSecretRef('env:PANELCTL_TEST_SECRET', 'code')).reveal()).toBe('4829');
    await expect(resolveSecretRef('env:PANELCTL_NOT_SET_ANYWHERE', 'code')).rejects.toThrow(/PANELCTL_NOT_SET_ANYWHERE is not set/);

    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'oslo');
    await fs.writeFile(file, '5830\n', { mode: 0o600 });
    expect((await resolveSecretRef(`file:${file}`, 'code')).reveal()).toBe('5830');
    await fs.chmod(file, 0o644);
    const error = await resolveSecretRef(`file:${file}`, 'code').catch((e) => e);
    expect(error.message).toMatch(/accessible by other users \(mode 0644\)/);
    expect(error.message).not.toContain('5830');
  });

  it('refuses a prompt without a terminal', async () => {
    await expect(resolveSecretRef('prompt', 'master code')).rejects.toMatchObject({ code: 'E_NO_TTY', exitCode: 2 });
  });
});
