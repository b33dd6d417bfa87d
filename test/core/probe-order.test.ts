import { describe, expect, it } from 'vitest';
import { parseLink } from '../../src/core/link.js';
import { inProbeOrder } from '../../src/operations/probe.js';
import { drivers } from '../../drivers/index.js';

/** Every silent protocol tried first costs a whole timeout, so the link's own hints go first. */
describe('probe order', () => {
  const order = async (url: string) => (await inProbeOrder(parseLink(url), drivers)).map((d) => d.name);

  it('tries the driver whose default TCP port the link names first', async () => {
    expect((await order('tcp://10.0.0.5:4025'))[0]).toBe('dsc');
    expect((await order('tcp://10.0.0.5:502'))[0]).toBe('modbus');
    expect((await order('tcp://10.0.0.5:7094'))[0]).toBe('integra');
    expect((await order('tcp://10.0.0.5:10000'))[0]).toBe('vista'); // ser2sock
  });

  it('tries the drivers whose default baud rate the link names first, and keeps every driver', async () => {
    const serial = await order('serial:///dev/ttyUSB0?baud=9600');
    expect(serial.slice(0, 2).sort()).toEqual(['dsc', 'modbus']);
    expect(serial.sort()).toEqual(['dsc', 'integra', 'map5000', 'modbus', 'vista']);
    expect(await order('serial:///dev/ttyUSB0')).toEqual(['integra', 'dsc', 'modbus', 'vista', 'map5000']);
    expect((await order('serial:///dev/ttyUSB0?baud=115200'))[0]).toBe('vista'); // an AlarmDecoder's speed
  });
});
