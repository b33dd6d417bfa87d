import { afterEach, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listPorts } from '../../src/transport/ports.js';

afterEach(() => vi.restoreAllMocks());

/** A fake /sys and /dev: one USB adapter, one real UART, one phantom ttyS, one virtual console. */
async function fakeSystem(): Promise<{ sys: string; dev: string }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-sys-'));
  const sys = path.join(root, 'sys');
  const dev = path.join(root, 'dev');
  const usb = path.join(sys, 'devices', 'pci0', 'usb1', '1-1');
  const iface = path.join(usb, '1-1:1.0', 'ttyUSB0');
  await fs.mkdir(iface, { recursive: true });
  for (const [file, value] of Object.entries({ idVendor: '0403', idProduct: '6001', manufacturer: 'FTDI', serial: 'A10K3Z', product: 'FT232R USB UART' })) {
    await fs.writeFile(path.join(usb, file), `${value}\n`);
  }
  const drivers = path.join(sys, 'bus', 'drivers');
  await fs.mkdir(path.join(drivers, 'ftdi_sio'), { recursive: true });
  await fs.mkdir(path.join(drivers, 'serial8250'), { recursive: true });
  await fs.symlink(path.join(drivers, 'ftdi_sio'), path.join(iface, 'driver'));
  const uart = path.join(sys, 'devices', 'platform', 'serial8250');
  await fs.mkdir(uart, { recursive: true });
  await fs.symlink(path.join(drivers, 'serial8250'), path.join(uart, 'driver'));

  const cls = path.join(sys, 'class', 'tty');
  for (const name of ['ttyUSB0', 'ttyS0', 'ttyS1', 'tty1']) await fs.mkdir(path.join(cls, name), { recursive: true });
  await fs.symlink(iface, path.join(cls, 'ttyUSB0', 'device'));
  await fs.symlink(uart, path.join(cls, 'ttyS0', 'device'));
  await fs.writeFile(path.join(cls, 'ttyS0', 'type'), '4\n');
  await fs.symlink(uart, path.join(cls, 'ttyS1', 'device'));
  await fs.writeFile(path.join(cls, 'ttyS1', 'type'), '0\n');

  await fs.mkdir(path.join(dev, 'serial', 'by-id'), { recursive: true });
  await fs.symlink('../../ttyUSB0', path.join(dev, 'serial', 'by-id', 'usb-FTDI_FT232R_USB_UART_A10K3Z-if00-port0'));
  return { sys, dev };
}

describe('listPorts from the kernel (when udevadm is missing)', () => {
  it('finds the USB adapter with its ids and the real UART, skipping phantom ports and consoles', async () => {
    const { sys, dev } = await fakeSystem();
    const listing = await listPorts({ sysRoot: sys, devRoot: dev, useLibrary: false });
    expect(listing.source).toBe('sysfs');
    expect(listing.ports).toEqual([
      { path: path.join(dev, 'ttyS0'), byId: undefined },
      {
        path: path.join(dev, 'ttyUSB0'),
        vendorId: '0403',
        productId: '6001',
        manufacturer: 'FTDI',
        serialNumber: 'A10K3Z',
        description: 'FT232R USB UART',
        byId: path.join(dev, 'serial', 'by-id', 'usb-FTDI_FT232R_USB_UART_A10K3Z-if00-port0'),
      },
    ]);
  });

  // Was "on this machine": its only check sat under `if (listing.source === 'sysfs')`, so on a machine where the
  // library lists, or with a fallback that said nothing, it could not fail. Both cases are made here.
  it.runIf(process.platform === 'linux')('falls back to the kernel and says why when the library cannot list', async () => {
    const { SerialPort } = await import('serialport');
    vi.spyOn(SerialPort, 'list').mockRejectedValueOnce(new Error('spawn udevadm ENOENT'));
    const { sys, dev } = await fakeSystem();
    const listing = await listPorts({ sysRoot: sys, devRoot: dev });
    expect(listing).toMatchObject({ source: 'sysfs', fallbackReason: 'spawn udevadm ENOENT' });
    expect(listing.ports.map((p) => p.path)).toEqual([path.join(dev, 'ttyS0'), path.join(dev, 'ttyUSB0')]);
  });

  it('takes the library list when it has one', async () => {
    const { SerialPort } = await import('serialport');
    vi.spyOn(SerialPort, 'list').mockResolvedValueOnce([
      { path: '/dev/ttyUSB7', manufacturer: 'FTDI', serialNumber: 'A10K3Z', vendorId: '0403', productId: '6001', pnpId: 'x', locationId: 'y' },
    ]);
    expect(await listPorts()).toEqual({
      source: 'serialport',
      ports: [{ path: '/dev/ttyUSB7', manufacturer: 'FTDI', serialNumber: 'A10K3Z', vendorId: '0403', productId: '6001' }],
    });
  });
});
