import { EventEmitter } from 'node:events';
import Modbus from 'modbus-serial';
import { PanelRefusedError, ProtocolError, UnreachableError, type PanelctlError } from '../../src/driver-kit/index.js';
import { formatMs } from '../../src/driver-kit/index.js';
import type { ByteStream } from '../../src/driver-kit/index.js';
import { MbapDecoder, encodeMbap } from './mbap.js';
import { EXCEPTIONS, FUNCTION_NAMES } from './pdu.js';
import { RtuDecoder, encodeRtu } from './rtu.js';
import { EchoFilter } from './echo.js';
import { maskedPduHex } from './trace.js';

/**
 * The Modbus client: modbus-serial builds requests and parses answers, running over a
 * ByteStream from src/transport (so TCP and serial links fail with the same typed errors as
 * every other driver). Between the two sits StreamPort, a "port" in modbus-serial's sense that
 * frames bytes with our own decoders (MBAP for TCP, RTU with CRC check and resync for serial),
 * keeps only answers from the unit and function asked, and traces frames with code registers
 * masked. Timeouts, lost links and Modbus exceptions become panelctl's typed errors here.
 */

export type Framing = 'mbap' | 'rtu';

type ModbusClientClass = (typeof Modbus)['default'];
type ModbusRTU = InstanceType<ModbusClientClass>;

export interface ClientOptions {
  unit: number;
  framing: Framing;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Pause between the end of one answer and the next request (slow devices). */
  interRequestDelayMs?: number;
  trace?: (direction: 'tx' | 'rx', text: string) => void;
  /** Whether a holding register holds code digits: its bytes are masked in traces. */
  isSecretRegister?: (address: number) => boolean;
}

/** What the request in flight is, for filtering answers, masking traces and wording errors. */
interface Pending {
  unit: number;
  fc: number;
  address: number;
  count: number;
  purpose: string;
  transactionId?: number;
  /** Frames during this request that were not its answer (a flood past MAX_UNRELATED fails it). */
  unrelated: number;
  /** Exact copies of this request skipped on an echoing RTU line. */
  echoes: number;
}

/** Frames that are not the answer, in one request, before the request fails as a flood. */
export const MAX_UNRELATED = 1024;

/** Functions whose normal reply is a copy of the request (spec 6.5, 6.6): a copy proves nothing by itself. */
const ECHO_REPLY_FUNCTIONS = new Set([5, 6]);

/** Silence that ends a partial RTU frame (well above 3.5 characters at 9600 baud, and timer jitter). */
const RTU_IDLE_MS = 20;
/** After a timeout on RTU, a late answer could be taken for the next one: wait for this much quiet first. */
const SETTLE_QUIET_MS = 60;
const SETTLE_MAX_MS = 1000;

/** A modbus-serial port over a ByteStream. */
class StreamPort extends EventEmitter {
  // modbus-serial keys its transactions by these two fields of the port.
  _transactionIdRead = 1;
  _transactionIdWrite = 1;
  pending?: Pending;
  lastRxAt = 0;
  foreignUnits = new Set<number>();
  writeError?: Error;
  /** The bytes of the request in flight as sent, to recognise an exact echo of it. */
  private sent?: Buffer;
  /** Whether this RTU line has been seen to echo our requests (then copies of 5/6 requests are skipped too). */
  lineEchoes = false;
  private readonly rtu?: RtuDecoder;
  private readonly mbap?: MbapDecoder;
  private readonly echo = new EchoFilter();
  private idleTimer?: NodeJS.Timeout;

  constructor(
    readonly stream: ByteStream,
    readonly framing: Framing,
    private readonly options: ClientOptions,
  ) {
    super();
    if (framing === 'rtu') this.rtu = new RtuDecoder('response');
    else this.mbap = new MbapDecoder();
    stream.onData((chunk) => this.receive(chunk));
    stream.onClose(() => {
      clearTimeout(this.idleTimer);
      this.emit('close');
    });
  }

  get isOpen(): boolean {
    return !this.stream.closed;
  }

  get badCrc(): number {
    return this.rtu?.badCrc ?? 0;
  }

  /** Bytes held by the decoder and the echo filter (each bounded by one frame). */
  get held(): number {
    return (this.rtu?.held ?? 0) + (this.mbap?.held ?? 0) + this.echo.held;
  }

  open(callback: (error: Error | null) => void): void {
    callback(this.stream.closed ? new Error('the link is closed') : null);
  }

  close(callback?: () => void): void {
    void this.stream.close().then(() => callback?.());
  }

  /** modbus-serial hands over an RTU frame (unit, PDU, CRC) whatever the link. */
  write(adu: Buffer): void {
    const unit = adu[0];
    const pdu = adu.subarray(1, adu.length - 2);
    let bytes: Buffer;
    if (this.framing === 'mbap') {
      const id = this._transactionIdWrite;
      if (this.pending) this.pending.transactionId = id;
      bytes = encodeMbap(id, unit, pdu);
      this._transactionIdWrite = (id % 0xffff) + 1;
    } else {
      this.rtu!.reset(); // anything heard before our request is not its answer
      bytes = adu;
      // A copy of a 5/6 request is also its normal reply: strip one only once the line has shown it echoes.
      if (!ECHO_REPLY_FUNCTIONS.has(pdu[0]) || this.lineEchoes) this.echo.expect(bytes);
    }
    this.sent = bytes;
    this.options.trace?.('tx', this.traceText(unit, pdu));
    this.stream.write(bytes).catch((error: Error) => {
      this.writeError = error;
      this.emit('write-error', error);
    });
  }

  private receive(chunk: Buffer): void {
    this.lastRxAt = Date.now();
    if (this.mbap) {
      for (const frame of this.mbap.push(chunk)) this.deliver(frame.unit, frame.pdu, frame.transactionId);
      return;
    }
    const { pass, echoed } = this.echo.filter(chunk);
    if (echoed) this.skipEcho();
    for (const frame of this.rtu!.push(pass)) this.deliver(frame.unit, frame.pdu);
    clearTimeout(this.idleTimer);
    if (this.rtu!.held > 0 || this.echo.held > 0) {
      this.idleTimer = setTimeout(() => {
        for (const frame of this.rtu!.push(this.echo.flush())) this.deliver(frame.unit, frame.pdu);
        for (const frame of this.rtu!.idle()) this.deliver(frame.unit, frame.pdu);
      }, RTU_IDLE_MS);
    }
  }

  /** Our own RTU request came back whole: the line echoes; the device's answer is still to come. */
  private skipEcho(): void {
    this.lineEchoes = true;
    if (this.pending) this.pending.echoes++;
    const sent = this.sent!;
    this.options.trace?.(
      'rx',
      `${hex(sent[0])} ${maskedPduHex(sent.subarray(1, sent.length - 2), this.options.isSecretRegister)} (our own request, echoed: skipped)`,
    );
  }

  /**
   * Passes on an answer to the request in flight; anything else is not ours and is dropped. On
   * Modbus TCP an exact copy of the request (transaction id included) is an echo and a protocol
   * error, except for 5/6 whose normal reply is that copy (spec 6.5, 6.6). (RTU echoes are
   * stripped before decoding: see EchoFilter and the README.)
   */
  private deliver(unit: number, pdu: Buffer, transactionId?: number): void {
    const pending = this.pending;
    if (pending && transactionId !== undefined && !ECHO_REPLY_FUNCTIONS.has(pdu[0]) && this.sent && encodeMbap(transactionId, unit, pdu).equals(this.sent)) {
      pending.echoes++;
      this.options.trace?.('rx', `${this.tidText(transactionId)}${hex(unit)} ${maskedPduHex(pdu, this.options.isSecretRegister)} (our own request, echoed)`);
      this.emit('echo');
      return;
    }
    const answer =
      pending !== undefined &&
      (transactionId === undefined || transactionId === pending.transactionId) &&
      (pdu[0] & 0x7f) === pending.fc &&
      unit === pending.unit;
    // Values of a read reply are shown only against the read they answer; a late reply shows none.
    const read = answer && (pending.fc === 3 || pending.fc === 4) ? pending : undefined;
    this.options.trace?.('rx', `${this.tidText(transactionId)}${hex(unit)} ${maskedPduHex(pdu, this.options.isSecretRegister, read)}`);
    if (!pending) return;
    if (!answer) {
      // On a multi-drop line another unit's frame is not an answer; remember it for the timeout message.
      if ((transactionId === undefined || transactionId === pending.transactionId) && (pdu[0] & 0x7f) === pending.fc) this.foreignUnits.add(unit);
      if (++pending.unrelated > MAX_UNRELATED) this.emit('flood');
      return;
    }
    if (transactionId !== undefined) this._transactionIdRead = transactionId;
    this.emit('data', encodeRtu(unit, pdu));
  }

  private tidText(transactionId?: number): string {
    return this.framing === 'mbap' ? `[${(transactionId ?? this.pending?.transactionId ?? 0).toString(16).padStart(4, '0')}] ` : '';
  }

  /** Hex of unit + PDU (CRC left out: it would give away masked bytes), with code registers as **. */
  private traceText(unit: number, pdu: Buffer): string {
    return `${this.tidText()}${hex(unit)} ${maskedPduHex(pdu, this.options.isSecretRegister)}`;
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

export class ModbusClient {
  /** Requests sent on this connection (benchmarks compare it with the minimum). */
  requests = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private lastAnswerAt = 0;
  private settle = false;
  private lost?: Error;

  private constructor(
    private readonly modbus: ModbusRTU,
    private readonly port: StreamPort,
    private readonly options: ClientOptions,
  ) {
    port.on('close', () => {
      this.lost ??= new UnreachableError('E_LOST', `lost the device: the connection closed (${port.stream.description})`, {
        hint: 'check the cable or network; nothing after the last confirmed step was done',
      });
    });
  }

  static async open(stream: ByteStream, options: ClientOptions): Promise<ModbusClient> {
    const port = new StreamPort(stream, options.framing, options);
    // See shared/notes/tooling.md: under NodeNext the class is the default export's `default`.
    const modbus = new Modbus.default(port);
    await new Promise<void>((resolve, reject) => modbus.open((error: Error | null) => (error ? reject(error) : resolve())));
    return new ModbusClient(modbus, port, options);
  }

  get unit(): number {
    return this.options.unit;
  }

  get description(): string {
    return this.port.stream.description;
  }

  /** Bytes held while framing answers (for the fuzz harness's memory bound). */
  get held(): number {
    return this.port.held;
  }

  readRegisters(address: number, count: number, purpose: string): Promise<number[]> {
    return this.call<{ data: number[] }>({ fc: 3, address, count, purpose }, (cb) => this.modbus.writeFC3(this.unit, address, count, cb)).then((r) => {
      if (r.data.length !== count) throw new ProtocolError(`the device answered ${r.data.length} registers instead of ${count} while ${purpose}`);
      return r.data;
    });
  }

  readCoils(address: number, count: number, purpose: string): Promise<boolean[]> {
    return this.call<{ data: boolean[] }>({ fc: 1, address, count, purpose }, (cb) => this.modbus.writeFC1(this.unit, address, count, cb)).then((r) =>
      r.data.slice(0, count),
    );
  }

  writeRegisters(address: number, values: number[], purpose: string): Promise<void> {
    return this.call({ fc: 16, address, count: values.length, purpose }, (cb) => this.modbus.writeFC16(this.unit, address, values, cb)).then(() => undefined);
  }

  writeRegister(address: number, value: number, purpose: string): Promise<void> {
    return this.call({ fc: 6, address, count: 1, purpose }, (cb) => this.modbus.writeFC6(this.unit, address, value, cb)).then(() => undefined);
  }

  writeCoil(address: number, on: boolean, purpose: string): Promise<void> {
    return this.call({ fc: 5, address, count: 1, purpose }, (cb) => this.modbus.writeFC5(this.unit, address, on, cb)).then(() => undefined);
  }

  /** One request at a time (RTU has no transaction ids), after the pause the device needs. */
  private call<T>(request: Omit<Pending, 'unit' | 'unrelated' | 'echoes'>, send: (cb: (error: unknown, result: T) => void) => void): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.lost) throw this.lost;
      await this.pause();
      if (this.lost) throw this.lost;
      return this.exchange(request, send);
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async pause(): Promise<void> {
    const delay = this.options.interRequestDelayMs ?? 0;
    const wait = this.lastAnswerAt + delay - Date.now();
    if (delay && wait > 0) await sleep(wait);
    if (this.settle && this.port.framing === 'rtu') {
      const started = Date.now();
      while (Date.now() - this.port.lastRxAt < SETTLE_QUIET_MS && Date.now() - started < SETTLE_MAX_MS) await sleep(SETTLE_QUIET_MS / 3);
    }
    this.settle = false;
  }

  private exchange<T>(request: Omit<Pending, 'unit' | 'unrelated' | 'echoes'>, send: (cb: (error: unknown, result: T) => void) => void): Promise<T> {
    const pending: Pending = { ...request, unit: this.unit, unrelated: 0, echoes: 0 };
    const { timeoutMs, signal } = this.options;
    const badCrcBefore = this.port.badCrc;
    this.port.foreignUnits.clear();
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (error: Error | undefined, value?: T) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.port.off('close', onClose);
        this.port.off('write-error', onWriteError);
        this.port.off('echo', onEcho);
        this.port.off('flood', onFlood);
        if (this.port.pending === pending) this.port.pending = undefined;
        this.lastAnswerAt = Date.now();
        if (error) reject(error);
        else resolve(value as T);
      };
      const timer = setTimeout(() => {
        this.settle = true;
        finish(this.timeoutError(pending, this.port.badCrc - badCrcBefore));
      }, timeoutMs);
      const onAbort = () => finish(new UnreachableError('E_ABORTED', 'cancelled', { transient: false, cause: signal?.reason }));
      const onClose = () => finish(this.lost);
      const onWriteError = (error: Error) => finish(error);
      const onEcho = () => finish(echoError(pending));
      const onFlood = () =>
        finish(
          new ProtocolError(`the device sent ${MAX_UNRELATED} frames that do not answer the request while ${pending.purpose} (a flood); gave up`, {
            code: 'E_FLOOD',
            hint: 'another master or device is talking on this link, or the peer is not the device it should be; check what is connected',
          }),
        );
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.port.once('close', onClose);
      this.port.once('write-error', onWriteError);
      this.port.once('echo', onEcho);
      this.port.once('flood', onFlood);
      this.port.pending = pending;
      this.requests++;
      send((error, result) => (error ? finish(exceptionOrProtocolError(error, pending)) : finish(undefined, result)));
    });
  }

  private timeoutError(p: Pending, corrupted: number): UnreachableError {
    const notes: string[] = [];
    if (this.port.foreignUnits.size) notes.push(`a device answered as unit ${[...this.port.foreignUnits].join(', ')} instead`);
    if (p.echoes > 0) notes.push('the line echoed the request back (skipped) but no device answered');
    if (corrupted > 0) notes.push(`${corrupted} corrupted frame(s) dropped (bad CRC)`);
    const serial = this.port.framing === 'rtu';
    return new UnreachableError(
      'E_TIMEOUT',
      `no answer from Modbus unit ${p.unit} within ${formatMs(this.options.timeoutMs)} (${this.description})${notes.length ? `; ${notes.join('; ')}` : ''}`,
      {
        hint: `check the unit id (options.unit, now ${p.unit}: the device's slave address)${serial ? ' and the line settings (Modbus RTU is usually 9600 8E1; set ?baud=&parity= on the link)' : ''}; raise --timeout if the link is slow`,
        data: { unit: p.unit, function: p.fc, address: p.address },
      },
    );
  }

  async close(): Promise<void> {
    this.port.removeAllListeners('data');
    await this.port.stream.close();
  }
}

function echoError(p: Pending): ProtocolError {
  return new ProtocolError(`panelctl's own request came back instead of an answer while ${p.purpose}: the link echoes`, {
    code: 'E_ECHO',
    hint: 'the link sends back what panelctl sends: a loopback plug, a converter with local echo on, or a port that is not the Modbus device. Check the wiring and the converter settings',
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function where(p: Pending): string {
  const kind = p.fc === 1 || p.fc === 5 || p.fc === 15 ? 'coil' : 'register';
  return p.count > 1 ? `${kind}s ${p.address}..${p.address + p.count - 1}` : `${kind} ${p.address}`;
}

/** A Modbus exception answer as a typed error that says, in plain words, what was refused. */
export function exceptionError(code: number, p: Pending): PanelctlError {
  const label = `Modbus exception ${code}, ${EXCEPTIONS[code] ?? 'unknown'}`;
  const data = { modbusException: code, function: p.fc, address: p.address, count: p.count };
  const writing = p.fc === 5 || p.fc === 6 || p.fc === 15 || p.fc === 16;
  switch (code) {
    case 1:
      return new ProtocolError(`the device does not support function ${p.fc} (${FUNCTION_NAMES[p.fc] ?? 'unknown'}) while ${p.purpose} (${label})`, {
        code: 'E_MODBUS_ILLEGAL_FUNCTION',
        hint: 'the profile does not fit this device: if it lacks function 16, set limits.writeMultiple: false',
        data,
      });
    case 2:
      return new ProtocolError(`the device has no ${where(p)} while ${p.purpose} (${label})`, {
        code: 'E_MODBUS_ILLEGAL_ADDRESS',
        hint: 'the profile does not fit this device, or options.unit names another device',
        data,
      });
    case 3:
      if (!writing) {
        return new ProtocolError(`the device refused to read ${where(p)} while ${p.purpose} (${label})`, {
          code: 'E_MODBUS_ILLEGAL_VALUE',
          hint: 'the device may take fewer registers per request: lower limits.maxReadRegisters in the profile',
          data,
        });
      }
      return new PanelRefusedError('E_MODBUS_ILLEGAL_VALUE', `the device refused the value written to ${where(p)} while ${p.purpose} (${label})`, { data });
    case 4:
      return new PanelRefusedError('E_DEVICE_FAILURE', `the device reported an internal failure while ${p.purpose} (${label})`, { data });
    case 5:
    case 6:
      return new UnreachableError(
        'E_BUSY',
        `the device is busy${code === 5 ? ' with an earlier long request' : ''} and did not act while ${p.purpose} (${label})`,
        {
          hint: 'try again in a moment',
          data,
        },
      );
    case 10:
    case 11:
      return new UnreachableError('E_TIMEOUT', `the gateway got no answer from Modbus unit ${p.unit} while ${p.purpose} (${label})`, {
        hint: `check the unit id (options.unit, now ${p.unit}) and the serial side of the gateway`,
        data,
      });
    default:
      return new ProtocolError(`the device answered with ${label} while ${p.purpose}`, { code: 'E_MODBUS_EXCEPTION', data });
  }
}

function exceptionOrProtocolError(error: unknown, p: Pending): PanelctlError {
  const code = (error as { modbusCode?: number }).modbusCode;
  if (typeof code === 'number') return exceptionError(code, p);
  const message = error instanceof Error || typeof (error as { message?: unknown }).message === 'string' ? (error as Error).message : String(error);
  return new ProtocolError(`the device's answer made no sense while ${p.purpose}: ${message}`, { cause: error });
}
