import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ValidationError, UsageError } from '../../../src/core/errors.js';
import { loadProfile, parseProfile, shippedProfileNames, shippedProfilesDir } from '../../../drivers/modbus/profile.js';

/** Each rule a profile must keep: a profile that breaks it, and the words the error must use. */

const demoText = await fs.readFile(path.join(shippedProfilesDir(), 'demo-modbus.yaml'), 'utf8');
type Raw = any;
const demo = (): Raw => parseYaml(demoText);

function problems(change: (p: Raw) => void): { message: string; lines: string } {
  const raw = demo();
  change(raw);
  try {
    parseProfile(JSON.stringify(raw), 'bad');
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const e = error as ValidationError;
    return { message: e.message, lines: e.hint ?? '' };
  }
  throw new Error('the profile was accepted');
}

describe('the shipped profile', () => {
  it('is found by name from the sources and loads cleanly', async () => {
    expect(await shippedProfileNames()).toContain('demo-modbus');
    const loaded = await loadProfile('demo-modbus');
    expect(loaded.profile.users.slots).toBe(1000);
    expect(loaded.profile.limits).toEqual({ maxReadRegisters: 125, maxWriteRegisters: 123, writeMultiple: true, interRequestDelayMs: 0 });
  });

  it('is found from the compiled code in dist/ too (profiles live beside the sources only)', async () => {
    const compiled = path.resolve('dist/drivers/modbus/profile.js');
    const exists = await fs.stat(compiled).then(
      () => true,
      () => false,
    );
    if (!exists) return; // npm test builds first; a bare vitest run may not have dist/
    const mod = await import(compiled);
    expect(mod.shippedProfilesDir()).toBe(shippedProfilesDir());
    expect((await mod.loadProfile('demo-modbus')).profile.model).toMatch(/PCX-1000/);
  });
});

describe('loading a profile by name or path', () => {
  it('needs options.profile', async () => {
    await expect(loadProfile(undefined)).rejects.toThrow(/options.profile: is required/);
  });

  it('names the shipped profiles when the name is unknown', async () => {
    await expect(loadProfile('acme-9000')).rejects.toThrow(/no shipped profile named "acme-9000" \(shipped: demo-modbus\)/);
  });

  it('loads a JSON or YAML file by path, and says when it cannot read one', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'profile-'));
    const file = path.join(dir, 'gate.json');
    await fs.writeFile(file, JSON.stringify(demo()));
    expect((await loadProfile(file)).name).toBe('gate');
    await expect(loadProfile(path.join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read profile file .*missing.yaml \(ENOENT\)/);
    await fs.writeFile(path.join(dir, 'broken.yaml'), 'users: [1, 2\n');
    await expect(loadProfile(path.join(dir, 'broken.yaml'))).rejects.toThrow(UsageError);
    await expect(loadProfile(path.join(dir, 'broken.yaml'))).rejects.toThrow(/is not valid YAML or JSON/);
    await fs.rm(dir, { recursive: true });
  });
});

describe('profile rules, each with a profile that breaks it', () => {
  const cases: Array<[string, (p: Raw) => void, RegExp]> = [
    ['the format line', (p) => (p.format = 'modbus/0'), /field "format": must be "panelctl-modbus-profile\/1"/],
    ['no unknown fields (a typo is not ignored)', (p) => (p.users.strid = 16), /field "users": unknown field\(s\): strid/],
    ['required fields', (p) => delete p.users.code, /field "users.code": is required/],
    ['addresses are 0..65535', (p) => (p.apply.address = 70000), /field "apply.address": must be 0..65535/],
    ['at most 125 registers per read', (p) => (p.limits.maxReadRegisters = 200), /field "limits.maxReadRegisters": must be 1..125/],
    ['at most 123 registers per write', (p) => (p.limits.maxWriteRegisters = 124), /field "limits.maxWriteRegisters": must be 1..123/],
    ['an inter-request delay of 0..10000 ms', (p) => (p.limits.interRequestDelayMs = -5), /field "limits.interRequestDelayMs": must be 0..10000/],
    ['a slot fits one read', (p) => (p.users.stride = 126), /field "users.stride": must be 1..125/],
    [
      'the user table inside the device',
      (p) => (p.users.base = 5000),
      /field "users": the user table \(1000 slots x 16 registers from 5000\) uses registers 5000..20999, outside device.holdingRegisters 0..19999/,
    ],
    [
      'identification inside the device',
      (p) => (p.identification.serial.address = 19999),
      /field "identification.serial": uses register\(s\) 19999..20000, outside device.holdingRegisters/,
    ],
    [
      'the apply register inside the device',
      (p) => {
        p.device.holdingRegisters.to = 17999;
        p.apply.address = 18000;
      },
      /field "apply.address": uses register\(s\) 18000..18000, outside device.holdingRegisters 0..17999/,
    ],
    [
      'test-mode registers inside the device',
      (p) => (p.testMode.remaining.address = 19999),
      /field "testMode.remaining.address": uses register\(s\) 19999..20000, outside/,
    ],
    ['a coil needs declared coils', (p) => delete p.device.coils, /field "testMode.control.coil": uses a coil, but device.coils declares none/],
    ['coils inside the declared coils', (p) => (p.testMode.control.coil = 16), /field "testMode.control.coil": coil 16 is outside device.coils 0..15/],
    [
      'nothing else inside the user table',
      (p) => (p.apply.address = 1500),
      /field "apply.address": register\(s\) 1500..1500 lie inside the user table 1000..16999/,
    ],
    ['fields fit in the stride', (p) => (p.users.code.offset = 15), /field "users.code.offset": registers 15..16 of a slot do not fit in users.stride 16/],
    ['fields do not overlap', (p) => (p.users.code.offset = 10), /field "users.name.offset": overlaps users.code \(offsets 10..11\)/],
    ['distinct flag bits', (p) => (p.users.flags.codeSet = 0), /field "users.flags": present, enabled and codeSet must be different bits/],
    ['minLength not above maxLength', (p) => (p.users.code.minLength = 7), /field "users.code.minLength": must not be above maxLength \(6\)/],
    [
      'BCD codes fit their registers',
      (p) => (p.users.code.maxLength = 9),
      /field "users.code.maxLength": must be at most 8: 2 register\(s\) hold 8 BCD digits/,
    ],
    [
      'ASCII codes fit their registers',
      (p) => (p.users.code.encoding = 'ascii'),
      /field "users.code.maxLength": must be at most 4: 2 register\(s\) hold 4 ASCII digits/,
    ],
    [
      'uint32 codes use two registers',
      (p) => Object.assign(p.users.code, { encoding: 'uint32', registers: 1, minLength: 6 }),
      /field "users.code.registers": must be 2 for a uint32 code/,
    ],
    [
      'uint32 codes have a fixed length',
      (p) => Object.assign(p.users.code, { encoding: 'uint32' }),
      /field "users.code.minLength": must equal maxLength for a uint32 code/,
    ],
    [
      'uint32 codes have at most 9 digits',
      (p) => Object.assign(p.users.code, { encoding: 'uint32', minLength: 10, maxLength: 10 }),
      /field "users.code.maxLength": must be at most 9: a 32-bit integer holds at most 9 digits/,
    ],
    [
      'unreadable codes need a codeSet flag',
      (p) => {
        p.users.code.readable = false;
        delete p.users.flags.codeSet;
      },
      /field "users.flags.codeSet": is required when users.code.readable is false/,
    ],
    ['partitions fit their registers', (p) => (p.users.partitions.count = 17), /field "users.partitions.count": must be at most 16 for 1 register/],
    ['the default type is a known type', (p) => (p.users.type.default = 'guest'), /field "users.type.default": must be one of normal, duress, supervisor/],
    ['each type its own value', (p) => (p.users.type.values.duress = 0), /field "users.type.values": each type needs its own value/],
    [
      'slots stay below 65536',
      (p) => Object.assign(p.users, { firstSlot: 65000, slots: 1000 }),
      /field "users.slots": slots 65000..65999 go beyond slot 65535/,
    ],
    ['a 16- or 32-bit duration', (p) => (p.testMode.duration.registers = 3), /field "testMode.duration.registers": must be 1 \(16-bit\) or 2 \(32-bit\)/],
    ['the duration unit', (p) => (p.testMode.duration.unit = 'hours'), /field "testMode.duration.unit": must be seconds or minutes/],
    [
      'the test-mode control is a coil or a register',
      (p) => (p.testMode.control = { output: 3 }),
      /field "testMode.control": must be \{ coil: N \} or \{ register: N, on: V, off: V \}/,
    ],
    [
      'a control register with distinct on and off',
      (p) => (p.testMode.control = { register: 205, on: 1, off: 1 }),
      /field "testMode.control.on": must differ from off/,
    ],
    ['32-bit word order', (p) => (p.wordOrder = 'middle-endian'), /field "wordOrder": must be high-first or low-first/],
  ];

  for (const [rule, change, expected] of cases) {
    it(rule, () => {
      const { message } = problems(change);
      expect(message).toMatch(/^profile "bad", /);
      expect(message).toMatch(expected);
    });
  }

  it('lists every problem at once, one line each', () => {
    const { lines } = problems((p) => {
      p.limits.maxReadRegisters = 0;
      p.wordOrder = 'little';
      p.testMode.duration.unit = 'hours';
    });
    expect(lines).toMatch(/has 3 problem\(s\)/);
    expect(lines).toMatch(/- limits.maxReadRegisters: must be 1..125/);
    expect(lines).toMatch(/- testMode.duration.unit: must be seconds or minutes/);
  });
});
