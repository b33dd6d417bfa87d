import type {
  DriverInfo,
  ListProgress,
  NewUser,
  OpenOptions,
  PanelDriver,
  PanelInfo,
  PanelSession,
  ProbeOptions,
  ProbeResult,
  CodeChecker,
  UserReader,
  UserSlot,
  UserWriter,
} from '../../src/driver-kit/index.js';
import {
  capabilitiesOf,
  PanelRefusedError,
  type PanelctlError,
  ProtocolError,
  UnreachableError,
  UsageError,
  ValidationError,
  VerificationError,
  WrongCredentialError,
} from '../../src/driver-kit/index.js';
import type { Secret } from '../../src/driver-kit/index.js';
import { connect, parseDriverOptions } from '../../src/driver-kit/index.js';
import type { DriverOptions } from '../../src/driver-kit/index.js';
import { FrameChannel } from '../../src/driver-kit/index.js';
import type { Link } from '../../src/driver-kit/index.js';
import { encodeRequesterCode, encodeUserCode, NO_PHONE_CODE } from './bcd.js';
import { encodeFrame, IntegraDecoder, type IntegraFrame } from './codec.js';
import { encryptedLink, integrationKeyBytes, type EncryptedLink } from './encryption.js';
import type { IntegraOptions } from './options.js';
import {
  Cmd,
  DEFAULT_RIGHTS,
  FIRST_MASTER,
  LAST_MASTER,
  MODELS,
  RESULT_TEXT,
  Rights,
  SERVICE,
  USER_TYPES,
  answerProblem,
  decodeBitmap,
  decodeSelfInfo,
  decodeUserRecord,
  encodeName,
  encodeUserWrite,
  formatVersion,
  hasRight,
  hex2,
  typeName,
  typeNumber,
  type SelfInfo,
  type UserRecord,
} from './messages.js';

const BUSY_MESSAGE = 'panel busy: another client (integration or DLOADX session) is connected';

const info: DriverInfo = {
  name: 'integra',
  title: 'SATEL INTEGRA (ETHM-1 / INT-RS integration protocol)',
  transports: ['tcp', 'serial'],
  defaultTcpPort: 7094,
  defaultSerial: { baudRate: 19200, dataBits: 8, parity: 'none', stopBits: 1 },
  // A write is proven by asking who owns the new code (0xE0/0xE1), else by reading the user back (0xE1).
  facets: { writer: { proofs: ['code-check', 'read-back'], nextSlot: true }, reader: true, codeChecker: true, testMode: false, probe: true },
  codeRules: { minLength: 4, maxLength: 8 },
  // The integration protocol's user name field: 16 bytes of Windows-1250 (see checkName below).
  nameRules: { maxLength: 16, charset: 'windows-1250', charsetTitle: 'Windows-1250' },
  // The user types of the 0x84 user write, by name or number (messages.ts typeNumber): checked before connecting.
  addAccepts: { types: [...USER_TYPES, ...USER_TYPES.map((_, n) => String(n))], where: 'on INTEGRA panels' },
  // INTEGRA user manual: three wrong codes may raise an alarm or block the keypad for 90 s (installer options).
  credentialLockout: { attempts: 3, note: 'INTEGRA panels may block the keypad for 90 seconds, or raise an alarm, after 3 wrong codes' },
  slotRanges: [
    { from: 1, to: 240, kind: 'user' },
    { from: FIRST_MASTER, to: LAST_MASTER, kind: 'master' },
  ],
  secrets: [
    { name: 'code', label: 'INTEGRA user code with the users-editing right', required: true },
    { name: 'integrationKey', label: 'ETHM-1 Plus integration key (encrypted link)', required: false },
  ],
  // Said here, not read from options.ts: that would load zod for every command, the demo's included (test/e2e/startup).
  options: [{ name: 'prefix', description: 'code prefix digits, when the panel uses code prefixes (sent as prefix + code in the 8-byte code field)' }],
};

/** Page 19: 0xEF result codes as typed errors, in plain words. `cmd` is the command refused. */
function resultError(result: number, cmd?: number): PanelctlError {
  const hex = `0x${result.toString(16).padStart(2, '0').toUpperCase()}`;
  const data = { panelResult: hex };
  switch (result) {
    case 0x01:
      // 0xE0 gives the same answer for a code that lacks the GUARDX right (page 13), so say both.
      return new WrongCredentialError(
        cmd === Cmd.readSelf
          ? 'the panel does not recognise the code panelctl uses for it, or that user lacks the GUARDX right that reading self-info needs (requesting user code not found)'
          : 'the panel does not recognise the code panelctl uses for it (requesting user code not found)',
        { data },
      );
    case 0x02:
      return new PanelRefusedError('E_NO_RIGHTS', 'the panel refused: the code panelctl uses lacks the right to do this to that user (no access)', { data });
    case 0x03:
      return new PanelRefusedError('E_NO_SUCH_USER', 'the panel says that user does not exist', { data });
    case 0x04:
      return new PanelRefusedError('E_SLOT_TAKEN', 'the panel says a user already exists in that slot', { data });
    case 0x05:
      return new PanelRefusedError('E_CODE_REJECTED', 'the panel rejected the new code: it is already used by another user, or too short for this panel', {
        data,
        hint: 'choose another code (or --generate one)',
      });
    case 0x06:
      return new PanelRefusedError('E_PHONE_CODE_EXISTS', 'the panel rejected the telephone code: another user already has it', { data });
    case 0x07:
      return new PanelRefusedError('E_CODE_UNCHANGED', 'the new code is the same as the current one; nothing was changed', { data });
    case 0x08:
      return new PanelRefusedError('E_PANEL_ERROR', 'the panel reported an unspecified error (result 0x08)', { data });
    case 0x11:
    case 0x12:
      return new PanelRefusedError('E_CANNOT_ARM', `the panel says: ${RESULT_TEXT[result]}`, { data });
    default:
      return new PanelRefusedError('E_PANEL_ERROR', `the panel reported error ${hex}${result >= 0x80 && result <= 0x8f ? ' (other errors, page 19)' : ''}`, {
        data,
      });
  }
}

/** Hex of a frame for --debug, with the bytes that carry codes replaced by **. */
function traceText(cmd: number, data: Uint8Array, direction: 'tx' | 'rx'): string {
  const masked = new Set<number>();
  if (direction === 'tx' && cmd >= Cmd.readSelf && cmd <= Cmd.changeUser) {
    for (let i = 0; i < 8; i++) masked.add(i); // the requester's code (4 or 8 bytes; always sent as 8)
    if (cmd === Cmd.createUser || cmd === Cmd.changeUser) for (let i = 9; i < 13; i++) masked.add(i); // the new code
  }
  if (direction === 'rx' && cmd === Cmd.readSelf) masked.add(1).add(2); // the user's telephone code (page 13)
  const hex = [...data].map((b, i) => (masked.has(i) ? '**' : b.toString(16).padStart(2, '0')));
  return `${cmd.toString(16).padStart(2, '0')} ${hex.join(' ')}`.trim();
}

/** A frame that is not a valid answer is traced by command and length only: it may be our own request. */
function withheldText(cmd: number, data: Uint8Array, why: string): string {
  return `${cmd.toString(16).padStart(2, '0')} [${data.length} data bytes not shown: ${why}]`;
}

const ECHO_HINT =
  'the link sends back what panelctl sends: a loopback plug, a converter or modem with local echo on, or a port that is not the INT-RS/ETHM-1; an INTEGRA never repeats a request. Check the wiring and the converter settings';

function echoError(cmd: number): ProtocolError {
  return new ProtocolError(`panelctl's own request 0x${hex2(cmd)} came back instead of an answer: the line echoes`, { code: 'E_ECHO', hint: ECHO_HINT });
}

class IntegraSession implements PanelSession, UserWriter, UserReader, CodeChecker {
  readonly writer: UserWriter = this;
  readonly reader: UserReader = this;
  readonly codeChecker: CodeChecker = this;
  private self?: SelfInfo;
  /** Whether the panel has answered anything on this connection (silence from the start is telling). */
  private answered = false;
  private userLists?: { existing: Set<number>; editable: Set<number> };

  constructor(
    private readonly channel: FrameChannel<IntegraFrame>,
    private readonly decoder: IntegraDecoder,
    private readonly settings: IntegraSettings,
    private readonly options: OpenOptions,
    private readonly encrypted?: EncryptedLink,
  ) {}

  /**
   * One command, one answer (page 19: wait for the answer before sending the next). The answer
   * must be one: the command byte asked or 0xEF, the length of the spec's layout, never our own
   * request echoed (E_ECHO, exit 5); `check` looks at the fields (the user number asked...).
   */
  private async command(
    cmd: number,
    data: Uint8Array,
    answer: 'data' | 'result',
    timeoutMs = this.options.timeoutMs,
    check?: (data: Buffer) => string | undefined,
  ): Promise<Buffer> {
    this.options.trace?.('tx', traceText(cmd, data, 'tx'));
    const droppedBefore = this.decoder.dropped;
    let frame: IntegraFrame;
    try {
      frame = await this.channel.request(encodeFrame(cmd, data), (f) => f.kind === 'busy' || f.cmd === cmd || f.cmd === Cmd.result, {
        timeoutMs,
        signal: this.options.signal,
      });
    } catch (error) {
      if (this.decoder.busySeen) throw new UnreachableError('E_BUSY', BUSY_MESSAGE);
      const link = this.encrypted;
      if (link && error instanceof UnreachableError && error.code === 'E_TIMEOUT') {
        if (link.echoed > 0) throw echoError(cmd); // our own PDUs came back: not a wrong key
        if (link.rejected > 0) {
          throw new ProtocolError("the panel's answers could not be decrypted: the integration key is wrong", {
            code: 'E_WRONG_KEY',
            hint: 'check the integration key configured in the ETHM-1 Plus (DLOADX: ETHM-1 module settings)',
          });
        }
        if (link.accepted === 0) {
          throw new UnreachableError(
            'E_TIMEOUT',
            `${error.message}; on an encrypted link this usually means the integration key is wrong or the module does not encrypt`,
            {
              hint: 'check the integration key configured in the ETHM-1 Plus',
            },
          );
        }
      }
      const dropped = this.decoder.dropped - droppedBefore;
      if (error instanceof UnreachableError && error.code === 'E_TIMEOUT' && dropped > 0) {
        throw new UnreachableError('E_TIMEOUT', `${error.message}; ${dropped} corrupted frame(s) dropped (bad CRC or broken framing)`, {
          hint: 'the line is noisy or the baud rate is wrong',
        });
      }
      if (
        !link &&
        !this.answered &&
        this.options.link.kind === 'tcp' &&
        error instanceof UnreachableError &&
        error.code === 'E_TIMEOUT' &&
        this.decoder.dropped === 0
      ) {
        // An ETHM-1 Plus with encryption on ignores plain frames: silence from the first request.
        throw new UnreachableError('E_TIMEOUT', `${error.message}; nothing at all came back on this connection`, {
          hint: 'if the module is an ETHM-1 Plus with integration encryption on, set secrets.integrationKey for this panel; otherwise raise --timeout or check the module is on',
        });
      }
      throw error;
    }
    if (frame.kind === 'busy') throw new UnreachableError('E_BUSY', BUSY_MESSAGE);
    const problem = answerProblem(cmd, data, frame) ?? (frame.cmd === cmd ? check?.(frame.data) : undefined);
    if (problem === 'echo') {
      this.options.trace?.('rx', withheldText(frame.cmd, frame.data, 'our own request, echoed'));
      throw echoError(cmd);
    }
    if (problem) {
      this.options.trace?.('rx', withheldText(frame.cmd, frame.data, 'not a valid answer'));
      throw new ProtocolError(`the panel's answer to command 0x${hex2(cmd)} is not one: ${problem}`, {
        code: 'E_BAD_ANSWER',
        hint: 'the device on this link may not be an INTEGRA module, or another program is talking on the line',
      });
    }
    this.answered = true;
    this.options.trace?.('rx', traceText(frame.cmd, frame.data, 'rx'));
    if (frame.cmd === Cmd.result) {
      const result = frame.data[0];
      if (result === 0x00 || result === 0xff) {
        if (answer === 'result') return frame.data;
        throw new ProtocolError(`the panel answered command 0x${cmd.toString(16)} with a bare result instead of data`);
      }
      throw resultError(result, cmd);
    }
    if (answer === 'result') throw new ProtocolError(`the panel answered command 0x${cmd.toString(16)} with data instead of a result`);
    return frame.data;
  }

  private withRequester(...parts: Array<Uint8Array | number[]>): Buffer {
    return Buffer.concat([this.settings.requester, ...parts.map((p) => Buffer.from(p))]);
  }

  async info(): Promise<PanelInfo> {
    const version = await this.command(Cmd.integraVersion, new Uint8Array(), 'data');
    let module: string | undefined;
    try {
      // Modules older than 2013-11-08 do not know 0x7C and stay silent (page 4): ask briefly.
      const moduleVersion = await this.command(Cmd.moduleVersion, new Uint8Array(), 'data', Math.min(1500, this.options.timeoutMs));
      module = formatVersion(moduleVersion.subarray(0, 11).toString('latin1'));
    } catch (error) {
      if (!(error instanceof UnreachableError && error.code === 'E_TIMEOUT')) throw error;
    }
    return {
      driver: 'integra',
      model: MODELS[version[0]] ?? `INTEGRA (type ${version[0]})`,
      firmware: formatVersion(version.subarray(1, 12).toString('latin1')),
      module: module ? `ETHM-1 / INT-RS ${module}` : undefined,
      slotRanges: info.slotRanges,
      capabilities: capabilitiesOf(info.facets),
      codeRules: info.codeRules,
      details: { language: version[12] === 1 ? 'english' : `other (${version[12]})`, 'settings in flash': version[13] === 0xff },
    };
  }

  private async whoAmI(): Promise<SelfInfo> {
    this.self ??= decodeSelfInfo(await this.command(Cmd.readSelf, this.settings.requester, 'data', undefined, selfNumberProblem));
    return this.self;
  }

  private async lists(): Promise<{ existing: Set<number>; editable: Set<number> }> {
    if (!this.userLists) {
      const self = await this.whoAmI();
      const data = await this.command(Cmd.readUserList, this.withRequester([self.number]), 'data', undefined, (d) =>
        d[0] === self.number ? undefined : `it lists the users of ${d[0]}, not of ${self.number} as asked`,
      );
      this.userLists = { existing: new Set(decodeBitmap(data.subarray(1, 31))), editable: new Set(decodeBitmap(data.subarray(31, 61))) };
    }
    return this.userLists;
  }

  private toSlot(record: UserRecord, editable?: boolean): UserSlot {
    const master = record.number >= FIRST_MASTER && record.number <= LAST_MASTER;
    const type = typeName(record.typeByte);
    return {
      slot: record.number,
      kind: master ? 'master' : type === 'duress' ? 'duress' : 'user',
      name: record.name,
      type,
      partitions: record.partitions,
      hasCode: true, // every INTEGRA user has a code
      editable,
    };
  }

  private async readRecord(slot: number): Promise<UserRecord | undefined> {
    try {
      return decodeUserRecord(
        await this.command(Cmd.readUser, this.withRequester([slot]), 'data', undefined, (d) =>
          d[0] === slot ? undefined : `it describes user ${d[0]}, not user ${slot} as asked`,
        ),
      );
    } catch (error) {
      if (error instanceof PanelRefusedError && error.code === 'E_NO_SUCH_USER') return undefined;
      throw error;
    }
  }

  async listUsers(progress?: ListProgress): Promise<UserSlot[]> {
    const self = await this.whoAmI();
    const { existing, editable } = await this.lists();
    // The 30-byte list covers users 1..240 only. Masters: the service user learns which exist from
    // 0xE0 (page 13); a master knows itself; a normal user sees none (see README).
    const numbers = [...existing].filter((n) => n <= 240);
    if (self.number === SERVICE) numbers.push(...decodeBitmap(Uint8Array.of(self.mastersBitmap)).map((bit) => FIRST_MASTER + bit - 1));
    else if (self.number >= FIRST_MASTER) numbers.push(self.number);
    const users: UserSlot[] = [];
    for (const [index, number] of numbers.entries()) {
      progress?.(index, numbers.length);
      const record = await this.readRecord(number);
      // Only the service user edits masters (see README); users 1..240 as 0xE2's second bitmap says.
      if (record) users.push(this.toSlot(record, number >= FIRST_MASTER ? self.number === SERVICE : editable.has(number)));
    }
    return users;
  }

  async readUser(slot: number): Promise<UserSlot | undefined> {
    const record = await this.readRecord(slot);
    return record && this.toSlot(record);
  }

  async createUser(user: NewUser): Promise<UserSlot> {
    checkName(user.name);
    const type = typeNumber(user.type);
    if (type === undefined) throw new ValidationError('--type', `must be one of ${USER_TYPES.join(', ')}`);
    checkCode(user.code);
    const self = await this.whoAmI();
    let slot = user.slot;
    if (slot === undefined) {
      // Pick the lowest free slot ourselves rather than 255 "auto": the protocol does not say which slot auto used.
      const { existing } = await this.lists();
      slot = Array.from({ length: 240 }, (_, i) => i + 1).find((n) => !existing.has(n));
      if (slot === undefined) throw new PanelRefusedError('E_FULL', 'every user slot 1..240 is taken');
    }
    const partitions = user.partitions ?? (self.partitions.length ? self.partitions : [1]);
    const write = encodeUserWrite({
      number: slot,
      code: encodeUserCode(user.code.reveal()),
      phone: NO_PHONE_CODE,
      partitions,
      rightsAndType: type,
      time: 0,
      tempTime: 0,
      rights: DEFAULT_RIGHTS,
      name: user.name,
      object: 0,
    });
    await this.command(Cmd.createUser, this.withRequester(write), 'result');
    this.userLists = undefined;
    return { slot, kind: slot >= FIRST_MASTER ? 'master' : 'user', name: user.name, type: USER_TYPES[type], partitions, hasCode: true };
  }

  async changeCode(slot: number, code: Secret): Promise<void> {
    checkCode(code);
    const record = await this.readRecord(slot);
    if (!record) throw resultError(0x03);
    // 0xE7 has "no change" values only for the code and telephone code (page 15), so every other
    // field is sent back exactly as the panel reported it.
    const write = encodeUserWrite({
      number: slot,
      code: encodeUserCode(code.reveal()),
      phone: NO_PHONE_CODE,
      partitions: record.partitions,
      rightsAndType: (record.flags & 0xc0) | (record.typeByte & 0x20) | (record.typeByte & 0x0f),
      time: record.time,
      tempTime: record.tempTime,
      rights: record.rights,
      name: record.name,
    });
    await this.command(Cmd.changeUser, this.withRequester(write), 'result');
  }

  async deleteUser(slot: number): Promise<void> {
    await this.command(Cmd.removeUser, this.withRequester([slot]), 'result');
    this.userLists = undefined;
  }

  /**
   * Proves a code landed by asking the panel who owns it (0xE0 with that code): 0xE0 answers only
   * for users with the GUARDX right (page 13). For other users, 0xE1 "read user" with the code as
   * the requester and the slot as the user to read: a code nobody has is "requesting user code not
   * found" (0x01, page 19); a user may read its own record. Either way the code is sent once, and a
   * code the panel does not know is a proof that it is not in the slot (VerificationError).
   */
  async verifyCode(slot: number, code: Secret): Promise<boolean> {
    const record = await this.readRecord(slot);
    if (!record) return false;
    const asCode = encodeRequesterCode(code.reveal(), this.settings.prefix);
    try {
      if (hasRight(record.rights, Rights.guardx)) {
        const owner = decodeSelfInfo(await this.command(Cmd.readSelf, asCode, 'data', undefined, selfNumberProblem));
        if (owner.number !== slot) throw new VerificationError(`the new code belongs to slot ${owner.number}, not ${slot}`);
        return true;
      }
      const own = decodeUserRecord(await this.command(Cmd.readUser, Buffer.concat([asCode, Buffer.from([slot])]), 'data'));
      return own.number === slot;
    } catch (error) {
      if (error instanceof WrongCredentialError) throw new VerificationError(`the panel does not recognise the new code of slot ${slot}`);
      if (error instanceof PanelRefusedError && error.code === 'E_NO_RIGHTS')
        throw new VerificationError(`the new code of slot ${slot} belongs to another user`);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.channel.close();
  }
}

/** Page 13: 0xE0 names a user 1..240, a master 241..248 or the service user 255. */
function selfNumberProblem(data: Buffer): string | undefined {
  const n = data[0];
  return (n >= 1 && n <= LAST_MASTER) || n === SERVICE ? undefined : `user number ${n} is none the panel has (1..248, 255)`;
}

function checkName(name: string): void {
  if (name.length > 16) throw new ValidationError('--name', 'must be at most 16 characters on INTEGRA');
  if (encodeName(name).toString('latin1').includes('?') && !name.includes('?')) {
    throw new ValidationError('--name', 'has characters an INTEGRA cannot show (Windows-1250 only)');
  }
}

/** The new code must fit the 4-byte field; the message never shows it. */
function checkCode(code: Secret): void {
  if (!/^\d{4,8}$/.test(code.reveal())) throw new ValidationError('code', 'must be 4 to 8 digits on INTEGRA');
}

/** What a session works from, settled before connecting: the code prefix (options.ts) and the requester code. */
interface IntegraSettings {
  prefix: string;
  requester: Buffer;
}

/**
 * The options, parsed by the schema of options.ts. zod loads only when there is something to parse: a panel without
 * options (the demo, with no inventory) starts without it (test/e2e/startup), and {} parses to {}.
 */
export async function integraOptions(options: DriverOptions): Promise<IntegraOptions> {
  if (Object.keys(options).length === 0) return {};
  const { optionsSchema } = await import('./options.js');
  return parseDriverOptions(optionsSchema, options);
}

export function integraSettings(options: OpenOptions, { prefix = '' }: IntegraOptions): IntegraSettings {
  const code = options.secrets.code;
  if (!code) throw new UsageError('INTEGRA needs a user code to act as (secret: in the inventory)', { code: 'E_SECRET_MISSING' });
  if (!/^\d{4,8}$/.test(code.reveal()) || prefix.length + code.length > 16) {
    throw new ValidationError('secret', 'the INTEGRA code must be 4 to 8 digits (plus prefix, 16 digits in all)');
  }
  return { prefix, requester: encodeRequesterCode(code.reveal(), prefix) };
}

/**
 * A session over a channel that is already open (driver.open connects first; the fuzz harness
 * passes a channel on an in-memory stream, so it can watch what the channel holds).
 */
export function integraSession(
  channel: FrameChannel<IntegraFrame>,
  decoder: IntegraDecoder,
  options: OpenOptions,
  settings: IntegraSettings,
  encrypted?: EncryptedLink,
): PanelSession {
  return new IntegraSession(channel, decoder, settings, options, encrypted);
}

export const driver: PanelDriver = {
  describe: () => info,

  async open(options: OpenOptions): Promise<PanelSession> {
    const key = options.secrets.integrationKey?.reveal();
    if (key !== undefined) {
      try {
        integrationKeyBytes(key);
      } catch {
        throw new ValidationError('secrets.integrationKey', 'must be up to 12 printable ASCII characters');
      }
    }
    // The options and the code are checked before anything is sent.
    const settings = integraSettings(options, await integraOptions(options.options));
    const plain = await connect(options.link, { tcpPort: info.defaultTcpPort, serial: info.defaultSerial }, options);
    const encrypted = key === undefined ? undefined : encryptedLink(plain, key, 'client');
    const decoder = new IntegraDecoder();
    return integraSession(new FrameChannel(encrypted ?? plain, decoder), decoder, options, settings, encrypted);
  },

  async probe(link: Link, options: ProbeOptions): Promise<ProbeResult | undefined> {
    const stream = await connect(link, { tcpPort: info.defaultTcpPort, serial: info.defaultSerial }, options);
    try {
      const decoder = new IntegraDecoder();
      const channel = new FrameChannel(stream, decoder);
      try {
        const frame = await channel.request(encodeFrame(Cmd.integraVersion), (f) => f.kind === 'busy' || f.cmd === Cmd.integraVersion, options);
        if (frame.kind === 'busy') return { driver: 'integra', model: `INTEGRA (${BUSY_MESSAGE})` };
        // Our own 0x7E echoed, or a 0x7E of the wrong length, is not an INTEGRA answering.
        if (answerProblem(Cmd.integraVersion, new Uint8Array(), frame)) return undefined;
        return {
          driver: 'integra',
          model: MODELS[frame.data[0]] ?? `INTEGRA (type ${frame.data[0]})`,
          firmware: formatVersion(frame.data.subarray(1, 12).toString('latin1')),
        };
      } catch {
        return decoder.busySeen ? { driver: 'integra', model: `INTEGRA (${BUSY_MESSAGE})` } : undefined;
      }
    } finally {
      await stream.close();
    }
  },
};
