import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { UsageError, ValidationError } from '../../src/driver-kit/index.js';
import { FileTooLargeError, readTextBounded } from '../../src/driver-kit/index.js';

/**
 * A profile describes one Modbus device model: its register space, its user table, its test
 * mode and its limits. Everything the driver and the simulator know about a device comes from
 * here, and every cross-field rule is checked when the profile loads, so a bad profile is
 * refused before the first request, never halfway through a write.
 */

export const PROFILE_FORMAT = 'panelctl-modbus-profile/1';

const address = z
  .number({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a register address 0..65535') })
  .int('must be a whole number')
  .min(0, 'must be 0..65535')
  .max(65535, 'must be 0..65535');
const bit = z.number().int('must be a whole number').min(0, 'must be a bit number 0..15').max(15, 'must be a bit number 0..15');
const offset = z.number().int('must be a whole number').min(0, 'must be 0 or more');
const unitOfTime = z.enum(['seconds', 'minutes'], { message: 'must be seconds or minutes' });

const range = z
  .object({ from: address, to: address })
  .strict()
  .refine((r) => r.from <= r.to, { message: 'from must not be above to' });

const identField = (encodings: readonly [string, ...string[]]) =>
  z
    .object({
      address,
      registers: z.number().int().min(1, 'must be 1..32').max(32, 'must be 1..32').default(1),
      encoding: z.enum(encodings as [string, ...string[]], { message: `must be one of ${encodings.join(', ')}` }),
      /** Probe: the model text starts with this on devices this profile fits. */
      expect: z.string().optional(),
    })
    .strict();

const register1or2 = z.union([z.literal(1), z.literal(2)], { message: 'must be 1 (16-bit) or 2 (32-bit)' });

const profileSchema = z
  .object({
    format: z.literal(PROFILE_FORMAT, { message: `must be "${PROFILE_FORMAT}"` }),
    model: z.string().min(1, 'must not be empty'),
    vendor: z.string().optional(),
    description: z.string().optional(),
    /** The registers and coils the device has; the profile may address nothing outside them. */
    device: z
      .object({
        holdingRegisters: range,
        coils: range.optional(),
      })
      .strict(),
    /** Order of the two registers of a 32-bit value. */
    wordOrder: z.enum(['high-first', 'low-first'], { message: 'must be high-first or low-first' }).default('high-first'),
    limits: z
      .object({
        maxReadRegisters: z
          .number()
          .int()
          .min(1, 'must be 1..125 (the protocol allows at most 125)')
          .max(125, 'must be 1..125 (the protocol allows at most 125)')
          .default(125),
        maxWriteRegisters: z
          .number()
          .int()
          .min(1, 'must be 1..123 (the protocol allows at most 123)')
          .max(123, 'must be 1..123 (the protocol allows at most 123)')
          .default(123),
        /** Whether the device takes function 16 (write multiple registers); else one function 6 per register. */
        writeMultiple: z.boolean().default(true),
        interRequestDelayMs: z.number().int().min(0, 'must be 0..10000').max(10_000, 'must be 0..10000').default(0),
      })
      .strict()
      .prefault({}),
    identification: z
      .object({
        model: identField(['ascii']),
        firmware: identField(['ascii', 'uint16', 'uint32', 'version']).optional(),
        serial: identField(['ascii', 'uint16', 'uint32']).optional(),
      })
      .strict(),
    users: z
      .object({
        slots: z.number().int().min(1, 'must be 1 or more').max(65536, 'must be at most 65536'),
        firstSlot: z.number().int().min(0, 'must be 0..65535').max(65535, 'must be 0..65535').default(1),
        base: address,
        stride: z.number().int().min(1, 'must be 1..125').max(125, 'must be 1..125 (one slot must fit one read)'),
        flags: z
          .object({
            offset,
            present: bit,
            enabled: bit.optional(),
            /** Kept by the device: set while a code is stored. Without it, listing reads the code registers to tell. */
            codeSet: bit.optional(),
          })
          .strict(),
        code: z
          .object({
            offset,
            registers: z.number().int().min(1, 'must be 1..16').max(16, 'must be 1..16'),
            encoding: z.enum(['bcd', 'ascii', 'uint32'], { message: 'must be bcd, ascii or uint32' }),
            minLength: z.number().int().min(1, 'must be 1..16').max(16, 'must be 1..16'),
            maxLength: z.number().int().min(1, 'must be 1..16').max(16, 'must be 1..16'),
            /** Some devices read code registers back as zero: then a write cannot be proven by reading it. */
            readable: z.boolean().default(true),
          })
          .strict(),
        name: z
          .object({
            offset,
            registers: z.number().int().min(1, 'must be 1..32').max(32, 'must be 1..32'),
            encoding: z.literal('ascii', { message: 'must be ascii' }).default('ascii'),
            /** Which byte of a register holds the first character. */
            byteOrder: z.enum(['high-first', 'low-first'], { message: 'must be high-first or low-first' }).default('high-first'),
          })
          .strict(),
        type: z
          .object({
            offset,
            values: z
              .record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'type names are lower-case words'), z.number().int().min(0).max(65535))
              .refine((v) => Object.keys(v).length > 0, 'must name at least one type'),
            default: z.string().optional(),
          })
          .strict()
          .optional(),
        partitions: z
          .object({
            offset,
            registers: register1or2.default(1),
            count: z.number().int().min(1, 'must be 1..32').max(32, 'must be 1..32'),
          })
          .strict()
          .optional(),
      })
      .strict(),
    /** A register some devices need written after a change before they act on it. */
    apply: z
      .object({ address, value: z.number().int().min(0).max(65535).default(1) })
      .strict()
      .optional(),
    testMode: z
      .object({
        mode: z.string().default('test mode'),
        control: z.union(
          [
            z.object({ coil: address }).strict(),
            z.object({ register: address, on: z.number().int().min(0).max(65535).default(1), off: z.number().int().min(0).max(65535).default(0) }).strict(),
          ],
          {
            message: 'must be { coil: N } or { register: N, on: V, off: V }',
          },
        ),
        duration: z.object({ address, registers: register1or2.default(1), unit: unitOfTime }).strict(),
        status: z.union(
          [z.object({ coil: address }).strict(), z.object({ register: address, active: z.number().int().min(0).max(65535).optional() }).strict()],
          {
            message: 'must be { coil: N } or { register: N, active: V }',
          },
        ),
        remaining: z
          .object({ address, registers: register1or2.default(1), unit: unitOfTime })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine(checkLayout);

export type Profile = z.infer<typeof profileSchema>;
export type UsersLayout = Profile['users'];

interface Span {
  field: string;
  from: number;
  to: number;
}

/** The cross-field rules: every address inside the device, fields inside a slot, no overlaps, codes that fit. */
function checkLayout(p: z.infer<typeof profileSchema>, ctx: z.RefinementCtx): void {
  const problem = (pathParts: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path: pathParts, message });
  const holding = p.device.holdingRegisters;
  const u = p.users;

  // Fields of one slot: inside the stride, not overlapping.
  const fields: Array<{ name: string; offset: number; registers: number }> = [
    { name: 'flags', offset: u.flags.offset, registers: 1 },
    { name: 'code', offset: u.code.offset, registers: u.code.registers },
    { name: 'name', offset: u.name.offset, registers: u.name.registers },
    ...(u.type ? [{ name: 'type', offset: u.type.offset, registers: 1 }] : []),
    ...(u.partitions ? [{ name: 'partitions', offset: u.partitions.offset, registers: u.partitions.registers }] : []),
  ];
  for (const f of fields) {
    if (f.offset + f.registers > u.stride)
      problem(['users', f.name, 'offset'], `registers ${f.offset}..${f.offset + f.registers - 1} of a slot do not fit in users.stride ${u.stride}`);
  }
  for (let i = 0; i < fields.length; i++) {
    for (let j = i + 1; j < fields.length; j++) {
      const a = fields[i];
      const b = fields[j];
      if (a.offset < b.offset + b.registers && b.offset < a.offset + a.registers)
        problem(['users', b.name, 'offset'], `overlaps users.${a.name} (offsets ${a.offset}..${a.offset + a.registers - 1})`);
    }
  }
  const bits = [u.flags.present, u.flags.enabled, u.flags.codeSet].filter((b) => b !== undefined);
  if (new Set(bits).size !== bits.length) problem(['users', 'flags'], 'present, enabled and codeSet must be different bits');

  // The code must fit its registers in its encoding.
  const c = u.code;
  if (c.minLength > c.maxLength) problem(['users', 'code', 'minLength'], `must not be above maxLength (${c.maxLength})`);
  const capacity = c.encoding === 'bcd' ? c.registers * 4 : c.encoding === 'ascii' ? c.registers * 2 : 9;
  if (c.maxLength > capacity) {
    const why =
      c.encoding === 'uint32'
        ? 'a 32-bit integer holds at most 9 digits'
        : `${c.registers} register(s) hold ${capacity} ${c.encoding === 'bcd' ? 'BCD digits (4 per register)' : 'ASCII digits (2 per register)'}`;
    problem(['users', 'code', 'maxLength'], `must be at most ${capacity}: ${why}`);
  }
  if (c.encoding === 'uint32') {
    if (c.registers !== 2) problem(['users', 'code', 'registers'], 'must be 2 for a uint32 code');
    if (c.minLength !== c.maxLength)
      problem(['users', 'code', 'minLength'], 'must equal maxLength for a uint32 code (an integer cannot keep leading zeros unless the length is fixed)');
  }
  if (!c.readable && u.flags.codeSet === undefined)
    problem(['users', 'flags', 'codeSet'], 'is required when users.code.readable is false (nothing else tells whether a slot has a code)');
  if (u.partitions && u.partitions.count > u.partitions.registers * 16)
    problem(['users', 'partitions', 'count'], `must be at most ${u.partitions.registers * 16} for ${u.partitions.registers} register(s)`);
  if (u.type?.default !== undefined && !(u.type.default in u.type.values))
    problem(['users', 'type', 'default'], `must be one of ${Object.keys(u.type.values).join(', ')}`);
  if (u.type && new Set(Object.values(u.type.values)).size !== Object.keys(u.type.values).length)
    problem(['users', 'type', 'values'], 'each type needs its own value');
  if (u.firstSlot + u.slots - 1 > 65535) problem(['users', 'slots'], `slots ${u.firstSlot}..${u.firstSlot + u.slots - 1} go beyond slot 65535`);

  // Every register the profile uses lies in the device's declared range.
  const spans: Span[] = [{ field: 'users', from: u.base, to: u.base + u.slots * u.stride - 1 }];
  const id = p.identification;
  for (const [key, f] of Object.entries(id)) if (f) spans.push({ field: `identification.${key}`, from: f.address, to: f.address + f.registers - 1 });
  if (p.apply) spans.push({ field: 'apply.address', from: p.apply.address, to: p.apply.address });
  const coils: Span[] = [];
  const t = p.testMode;
  if (t) {
    if ('coil' in t.control) coils.push({ field: 'testMode.control.coil', from: t.control.coil, to: t.control.coil });
    else spans.push({ field: 'testMode.control.register', from: t.control.register, to: t.control.register });
    if ('coil' in t.status) coils.push({ field: 'testMode.status.coil', from: t.status.coil, to: t.status.coil });
    else spans.push({ field: 'testMode.status.register', from: t.status.register, to: t.status.register });
    spans.push({ field: 'testMode.duration.address', from: t.duration.address, to: t.duration.address + t.duration.registers - 1 });
    if (t.remaining) spans.push({ field: 'testMode.remaining.address', from: t.remaining.address, to: t.remaining.address + t.remaining.registers - 1 });
    if ('register' in t.control && t.control.on === t.control.off) problem(['testMode', 'control', 'on'], 'must differ from off');
  }
  for (const s of spans) {
    if (s.from < holding.from || s.to > holding.to) {
      const what =
        s.field === 'users'
          ? `the user table (${u.slots} slots x ${u.stride} registers from ${u.base}) uses registers ${s.from}..${s.to}`
          : `uses register(s) ${s.from}..${s.to}`;
      problem(s.field.split('.'), `${what}, outside device.holdingRegisters ${holding.from}..${holding.to}`);
    }
  }
  for (const s of coils) {
    if (!p.device.coils) problem(s.field.split('.'), 'uses a coil, but device.coils declares none');
    else if (s.from < p.device.coils.from || s.to > p.device.coils.to)
      problem(s.field.split('.'), `coil ${s.from} is outside device.coils ${p.device.coils.from}..${p.device.coils.to}`);
  }
  // Nothing else may sit inside the user table, or writing users would overwrite it.
  for (const s of spans.slice(1)) {
    if (s.from <= spans[0].to && spans[0].from <= s.to)
      problem(s.field.split('.'), `register(s) ${s.from}..${s.to} lie inside the user table ${spans[0].from}..${spans[0].to}`);
  }
}

/** A profile ready to use, with where it came from (for messages). */
export interface LoadedProfile {
  name: string;
  source: string;
  profile: Profile;
}

/** Turns zod issues into "field: rule" lines, as the inventory loader does. */
function describeIssue(issue: z.core.$ZodIssue): { field: string; rule: string } {
  let rule = issue.message;
  if (issue.code === 'unrecognized_keys') rule = `unknown field(s): ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) rule = 'is required';
  return { field: issue.path.map(String).join('.') || '(top level)', rule };
}

/** Parses and checks a profile's text (YAML, of which JSON is a subset). */
export function parseProfile(text: string, name: string, source = name): LoadedProfile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new UsageError(`profile "${name}" (${source}) is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`, { code: 'E_PROFILE' });
  }
  const result = profileSchema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.map(describeIssue);
    const first = problems[0];
    throw new ValidationError(`profile "${name}", field "${first.field}"`, first.rule, {
      hint: `profile ${source} has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p.field}: ${p.rule}`).join('\n')}`,
      data: { problems },
    });
  }
  return { name, source, profile: result.data };
}

/**
 * The folder of profiles that ship with panelctl. The compiled code runs from dist/drivers/modbus/,
 * the sources (tests) from drivers/modbus/; the YAML files live only beside the sources.
 */
export function shippedProfilesDir(): string {
  const candidates = [new URL('./profiles/', import.meta.url), new URL('../../../drivers/modbus/profiles/', import.meta.url)].map((u) => fileURLToPath(u));
  return candidates.find((dir) => existsSync(path.join(dir, 'demo-modbus.yaml'))) ?? candidates[candidates.length - 1];
}

export async function shippedProfileNames(): Promise<string[]> {
  const files = await fs.readdir(shippedProfilesDir()).catch(() => [] as string[]);
  return files
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => f.replace(/\.(ya?ml|json)$/, ''))
    .sort();
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const PROFILE_MAX_BYTES = 1024 * 1024;

/** Where a missing profile is given. */
export const PROFILE_HINT =
  'set options: { profile: NAME-OR-PATH, unit: 1 } for this panel in the inventory, or add --option profile=NAME-OR-PATH to an ad hoc --link';

/** `ref` is a shipped profile's name (demo-modbus) or a path to a YAML/JSON file. */
export async function loadProfile(ref: unknown, field = 'options.profile'): Promise<LoadedProfile> {
  if (typeof ref !== 'string' || !ref.trim()) {
    throw new ValidationError(field, 'is required: the name of a shipped profile (e.g. demo-modbus) or the path of a YAML/JSON profile file', {
      hint: PROFILE_HINT,
    });
  }
  const text = ref.trim();
  if (NAME.test(text) && !/\.(ya?ml|json)$/i.test(text)) {
    const dir = shippedProfilesDir();
    for (const ext of ['.yaml', '.yml', '.json']) {
      const file = path.join(dir, text + ext);
      const body = await fs.readFile(file, 'utf8').catch(() => undefined);
      if (body !== undefined) return parseProfile(body, text, file);
    }
    const shipped = await shippedProfileNames();
    throw new ValidationError(
      field,
      `no shipped profile named "${text}" (shipped: ${shipped.join(', ') || 'none'}); for another device give the path of its profile file`,
    );
  }
  const file = path.resolve(text.replace(/^~(?=$|\/)/, os.homedir()));
  let body: string;
  try {
    // Read with a cap: a profile is a few KiB, and /dev/zero must not be read whole (README "Limits").
    body = await readTextBounded(file, PROFILE_MAX_BYTES, 'profile file');
  } catch (error) {
    if (error instanceof FileTooLargeError) throw new ValidationError(field, error.message);
    throw new ValidationError(field, `cannot read profile file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseProfile(body, path.basename(file).replace(/\.(ya?ml|json)$/i, ''), file);
}
