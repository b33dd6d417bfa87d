import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EchoFilter } from '../../../drivers/modbus/echo.js';

/** The RTU echo filter: strips an exact copy of the request, however the bytes are chunked, and nothing else. */

function run(filter: EchoFilter, stream: Buffer, cuts: number[]): { passed: Buffer; echoed: number } {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let echoed = 0;
  let from = 0;
  for (const to of [...points, stream.length]) {
    const { pass, echoed: e } = filter.filter(stream.subarray(from, to));
    out.push(pass);
    if (e) echoed++;
    from = to;
  }
  out.push(filter.flush());
  return { passed: Buffer.concat(out), echoed };
}

describe('EchoFilter', () => {
  const bytes = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.from(b));

  it('removes the echo of the request in front of the reply, however split', () => {
    fc.assert(
      fc.property(bytes, bytes, fc.array(fc.nat(), { maxLength: 6 }), (request, reply, cuts) => {
        const filter = new EchoFilter();
        filter.expect(request);
        const { passed, echoed } = run(filter, Buffer.concat([request, reply]), cuts);
        expect(echoed).toBe(1);
        expect(passed.equals(reply)).toBe(true);
      }),
    );
  });

  it('passes every byte when what comes back is not the request', () => {
    fc.assert(
      fc.property(bytes, bytes, fc.array(fc.nat(), { maxLength: 6 }), (request, reply, cuts) => {
        fc.pre(!reply.subarray(0, request.length).equals(request));
        const filter = new EchoFilter();
        filter.expect(request);
        const { passed, echoed } = run(filter, reply, cuts);
        expect(echoed).toBe(0);
        expect(passed.equals(reply)).toBe(true);
      }),
    );
  });

  it('holds at most one request', () => {
    const filter = new EchoFilter();
    filter.expect(Buffer.from([1, 3, 0, 0, 0, 1, 0x84, 0x0a]));
    filter.filter(Buffer.from([1, 3, 0]));
    expect(filter.held).toBe(3);
    expect([...filter.flush()]).toEqual([1, 3, 0]);
    expect(filter.held).toBe(0);
  });
});
