import type * as FastCheck from 'fast-check';
import type { ByteStream, UserReader } from '../../src/driver-kit/index.js';
import type { ModbusClient } from './client.js';
import { modbusSessionOn } from './driver.js';
import { MAX_MBAP_FRAME, MbapDecoder, encodeMbap } from './mbap.js';
import { exceptionResponse, readRequest, registersResponse, writeRegistersRequest } from './pdu.js';
import { MAX_RTU_FRAME, RtuDecoder, encodeRtu } from './rtu.js';

/**
 * What bench/fuzz.mjs (and test/drivers/modbus/fuzz.test.ts) feed random, mutated and valid
 * frames to: the three Modbus decoders at once (RTU requests as the simulator reads them, RTU
 * responses as the client reads them, MBAP both ways), each frame re-encoded so a test can
 * compare bytes. RTU marks frame ends with silence, so "resync" is a silent gap on the line:
 * idle() on every decoder, then the good frame.
 */

export interface DecodedFrame {
  kind: 'rtu-request' | 'rtu-response' | 'mbap';
  bytes: Buffer;
}

export class AllModbusDecoders {
  readonly request = new RtuDecoder('request');
  readonly response = new RtuDecoder('response');
  readonly mbap = new MbapDecoder();

  push(chunk: Uint8Array): DecodedFrame[] {
    return [
      ...this.request.push(chunk).map((f) => ({ kind: 'rtu-request' as const, bytes: encodeRtu(f.unit, f.pdu) })),
      ...this.response.push(chunk).map((f) => ({ kind: 'rtu-response' as const, bytes: encodeRtu(f.unit, f.pdu) })),
      ...this.mbap.push(chunk).map((f) => ({ kind: 'mbap' as const, bytes: encodeMbap(f.transactionId, f.unit, f.pdu) })),
    ];
  }

  /** A silent gap: partial frames are dropped by all three. */
  idle(): DecodedFrame[] {
    return [
      ...this.request.idle().map((f) => ({ kind: 'rtu-request' as const, bytes: encodeRtu(f.unit, f.pdu) })),
      ...this.response.idle().map((f) => ({ kind: 'rtu-response' as const, bytes: encodeRtu(f.unit, f.pdu) })),
      ...this.mbap.idle().map((f) => ({ kind: 'mbap' as const, bytes: encodeMbap(f.transactionId, f.unit, f.pdu) })),
    ];
  }

  get held(): number {
    return Math.max(this.request.held, this.response.held, this.mbap.held);
  }
}

/** Valid frames of each kind, from random fields. */
export function validFrames(fc: typeof FastCheck) {
  const unit = fc.integer({ min: 0, max: 255 });
  const address = fc.integer({ min: 0, max: 0xffff });
  const registers = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 123 });
  const requestPdu = fc.oneof(
    fc.tuple(fc.constantFrom<1 | 3>(1, 3), address, fc.integer({ min: 1, max: 125 })).map(([code, a, n]) => readRequest(code, a, n)),
    fc.tuple(address, registers).map(([a, values]) => writeRegistersRequest(a, values)),
    fc
      .tuple(fc.constantFrom(5, 6), address, fc.integer({ min: 0, max: 0xffff }))
      .map(([code, a, v]) => Buffer.from([code, a >> 8, a & 0xff, v >> 8, v & 0xff])),
  );
  const responsePdu = fc.oneof(
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 125 }).map((values) => registersResponse(3, values)),
    fc.tuple(fc.integer({ min: 1, max: 127 }), fc.integer({ min: 1, max: 11 })).map(([code, ex]) => exceptionResponse(code, ex)),
  );
  const requests = fc.tuple(unit, requestPdu).map(([u, pdu]) => encodeRtu(u, pdu));
  const responses = fc.tuple(unit, responsePdu).map(([u, pdu]) => encodeRtu(u, pdu));
  const mbap = fc
    .tuple(fc.integer({ min: 0, max: 0xffff }), unit, fc.uint8Array({ minLength: 1, maxLength: 253 }))
    .map(([id, u, pdu]) => encodeMbap(id, u, pdu));
  return { requests, responses, mbap, any: fc.oneof(requests, responses, mbap) };
}

export function fuzzTarget(fc: typeof FastCheck) {
  let latest: AllModbusDecoders | undefined;
  // MBAP frames from transaction ids the client never uses (it counts up from 1): they answer nothing.
  const unrelated = fc.sample(
    fc
      .tuple(fc.integer({ min: 0x8000, max: 0xffff }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 1, maxLength: 253 }))
      .map(([id, unit, pdu]) => encodeMbap(id, unit, pdu)),
    { numRuns: 64, seed: 14 },
  );
  return {
    name: 'modbus',
    decoder: () => (latest = new AllModbusDecoders()),
    frame: validFrames(fc).any,
    held: (d: AllModbusDecoders) => d.held,
    cap: Math.max(MAX_RTU_FRAME, MAX_MBAP_FRAME),
    resync: () => {
      latest?.idle();
      return Uint8Array.of();
    },
    isGood: (out: DecodedFrame[], frame: Uint8Array) => out.some((f) => f.bytes.equals(frame)),
    hostile: {
      /** `users list` on Modbus TCP with the demo profile. */
      start(stream: ByteStream) {
        let client: ModbusClient | undefined;
        const done = modbusSessionOn(stream, {
          link: { kind: 'tcp', host: 'hostile', port: 502, url: stream.description },
          secrets: {},
          options: { profile: 'demo-modbus' },
          timeoutMs: 60_000,
        }).then((opened) => {
          client = opened.client;
          return (opened.session.reader as UserReader).listUsers();
        });
        return { done, held: () => client?.held ?? 0 };
      },
      cap: MAX_MBAP_FRAME,
      unrelated,
    },
  };
}
