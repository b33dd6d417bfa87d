import { describe, expect, it } from 'vitest';
import type { PanelSimulator } from '../../src/core/contract.js';
import { createSimulator as createDsc } from '../../drivers/dsc/simulator.js';
import { createSimulator as createModbus } from '../../drivers/modbus/simulator.js';
import { serveSimulator } from '../../src/transport/serve.js';
import { connectTcp } from '../../src/transport/tcp.js';

describe('serveSimulator: one way to serve any simulator', () => {
  it('lets a self-serving simulator listen on its own, and refuses it a serial line (exit 2)', async () => {
    const calls: string[] = [];
    const sim: PanelSimulator = {
      async listen(host, port) {
        calls.push(`${host}:${port}`);
        return { link: { kind: 'http', secure: true, host, port: 8443, path: '', url: `https://${host}:8443` }, close: async () => undefined };
      },
      demoSecrets: () => ({ apiToken: 'demo' }),
      close: async () => undefined,
    };
    const served = await serveSimulator(sim, { tcp: { host: '127.0.0.1', port: 0 } });
    expect(calls).toEqual(['127.0.0.1:0']);
    expect(served.link).toMatchObject({ kind: 'http', port: 8443 });
    await expect(
      serveSimulator(sim, { serial: { path: '/dev/null', settings: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 } } }),
    ).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/^--serial: this simulated panel is not served on a serial line/),
    });
  });

  it('hands each TCP connection of a byte-stream simulator to accept()', async () => {
    const accepted: string[] = [];
    const sim: PanelSimulator = { accept: (stream) => accepted.push(stream.description), demoSecrets: () => ({}), close: async () => undefined };
    const served = await serveSimulator(sim, { tcp: { host: '127.0.0.1', port: 0 } });
    expect(served.link).toMatchObject({ kind: 'tcp', host: '127.0.0.1' });
    const port = served.link.kind === 'tcp' ? (served.link.port as number) : 0;
    const stream = await connectTcp('127.0.0.1', port, { timeoutMs: 2000 });
    await new Promise<void>((resolve) => {
      const poll = () => (accepted.length ? resolve() : setImmediate(poll));
      poll();
    });
    await stream.close();
    await served.close();
    expect(accepted).toHaveLength(1);
  });
});

describe('simulators choose their own mode from where they are served', () => {
  it('DSC: an IT-100 on a serial line, an Envisalink on TCP, unless mode says otherwise', async () => {
    const serial = await createDsc({ servedOn: 'serial' });
    const tcp = await createDsc({ servedOn: 'tcp' });
    const told = await createDsc({ servedOn: 'serial', options: { mode: 'envisalink' } });
    expect([serial.mode, tcp.mode, told.mode]).toEqual(['it100', 'envisalink', 'envisalink']);
    await Promise.all([serial.close(), tcp.close(), told.close()]);
  });

  it('Modbus: RTU framing on a serial line, MBAP on TCP', async () => {
    const serial = await createModbus({ servedOn: 'serial' });
    const tcp = await createModbus({ servedOn: 'tcp' });
    expect([serial.mode, tcp.mode]).toEqual(['rtu', 'tcp']);
    await Promise.all([serial.close(), tcp.close()]);
  });
});
